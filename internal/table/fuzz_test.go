package table

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// FuzzCSV checks the CSV reader against encoding/csv on inputs both
// accept: same rows, same fields, whatever the number of workers.
func FuzzCSV(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "a,b\n\"x,\"\"y\",2\n", "a\n\n1\n", "a,b\n\"m\nl\",2\n3,4", "a,b,c\n,,\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsAny(s, "\r") || strings.HasPrefix(s, "\ufeff") {
			t.Skip() // encoding/csv rewrites \r\n inside quotes; BOMs differ
		}
		r := csv.NewReader(strings.NewReader(s))
		r.FieldsPerRecord = 0
		want, err := r.ReadAll()
		if err != nil || len(want) < 2 {
			return
		}
		if len(want[0]) < 2 {
			return // one-column files: blank lines are rows for encoding/csv
		}
		seen := map[string]bool{}
		for _, h := range want[0] {
			if seen[h] {
				return
			}
			seen[h] = true
		}
		p := filepath.Join(t.TempDir(), "f.csv")
		os.WriteFile(p, []byte(s), 0o644)
		for _, workers := range []int{1, 3} {
			var mu sync.Mutex
			var got []string
			_, err := Scan(context.Background(), p, Options{Workers: workers}, func(_ int, row *Row) error {
				fields := make([]string, row.Len())
				for i := range fields {
					fields[i] = row.String(i)
				}
				mu.Lock()
				got = append(got, fmt.Sprintf("%09d%q", row.Num(), fields))
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Fatalf("workers %d: %v (encoding/csv read %q)", workers, err, want)
			}
			sort.Strings(got)
			if len(got) != len(want)-1 {
				t.Fatalf("workers %d: %d rows, encoding/csv %d", workers, len(got), len(want)-1)
			}
			for i, g := range got {
				if w := fmt.Sprintf("%q", want[i+1]); g[9:] != w {
					t.Fatalf("workers %d row %d: %s, encoding/csv %s", workers, i+1, g[9:], w)
				}
			}
		}
	})
}

// FuzzJSONLFlat checks that the allocation-free parser of flat JSON
// objects agrees with encoding/json whenever it accepts a line.
func FuzzJSONLFlat(f *testing.F) {
	for _, s := range []string{`{"a": 1, "b": "x"}`, `{"a":-0.5e+3,"b":null}`, `{"a": 01}`, `{"a": "q\"x"}`, `{"a": [1]}`, `{"b": true, "a": false}`, `{ }`, `{"a":1,}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		names := []string{"a", "b"}
		flat := &jsonlParser{file: "f", idx: map[string]int{"a": 0, "b": 1}, row: newRow("f", names)}
		gen := &jsonlParser{file: "f", idx: map[string]int{"a": 0, "b": 1}, row: newRow("f", names)}
		for k := range flat.row.fields {
			flat.row.null[k], gen.row.null[k] = true, true
		}
		if !flat.flat([]byte(s)) {
			return
		}
		if err := gen.general([]byte(s)); err != nil {
			t.Fatalf("flat accepted %q, encoding/json: %v", s, err)
		}
		for k := range names {
			if flat.row.null[k] != gen.row.null[k] || string(flat.row.fields[k]) != string(gen.row.fields[k]) {
				t.Fatalf("%q field %s: flat %q (null %v), encoding/json %q (null %v)", s, names[k], flat.row.fields[k], flat.row.null[k], gen.row.fields[k], gen.row.null[k])
			}
		}
	})
}
