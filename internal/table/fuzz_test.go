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
