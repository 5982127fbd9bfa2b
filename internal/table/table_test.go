package table

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parquet-go/parquet-go"

	"github.com/slipway-ml/slipway/internal/digest"
)

// collect scans a file and returns its rows as "num:line:a|b|c" strings.
func collect(t *testing.T, path string, opts Options) ([]string, Info, error) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	info, err := Scan(context.Background(), path, opts, func(_ int, r *Row) error {
		parts := make([]string, r.Len())
		for i := range parts {
			if r.IsNull(i) {
				parts[i] = "<null>"
			} else {
				parts[i] = r.String(i)
			}
		}
		mu.Lock()
		got = append(got, fmt.Sprintf("%d:%d:%s", r.Num(), r.Line(), strings.Join(parts, "|")))
		mu.Unlock()
		return nil
	})
	// Workers deliver chunks out of order.
	sortRows(got)
	return got, info, err
}

func sortRows(s []string) {
	key := func(x string) int {
		var n int
		fmt.Sscanf(x, "%d:", &n)
		return n
	}
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && key(s[j]) < key(s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScanCSV(t *testing.T) {
	tests := []struct {
		name    string
		content string
		cols    []string
		want    []string
	}{
		{"plain", "a,b,c\n1,2,3\n4,,6\n", nil, []string{"1:2:1|2|3", "2:3:4|<null>|6"}},
		{"projection reorders", "a,b,c\n1,2,3\n", []string{"c", "a"}, []string{"1:2:3|1"}},
		{"no final newline and CRLF", "a,b\r\n1,2\r\n3,4", nil, []string{"1:2:1|2", "2:3:3|4"}},
		{"quoted fields", "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n\"multi\nline\",2\n3,4\n", nil, []string{"1:2:x,y|say \"hi\"", "2:3:multi\nline|2", "3:5:3|4"}},
		{"blank line keeps its number", "a,b\n1,2\n\n3,4\n", nil, []string{"1:2:1|2", "3:4:3|4"}},
		{"byte order mark", "\ufeffa,b\n1,2\n", []string{"a"}, []string{"1:2:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, "t.csv", tt.content)
			got, _, err := collect(t, p, Options{Columns: tt.cols, Name: "t.csv"})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScanCSVErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		cols    []string
		want    string
		is      error
	}{
		{"empty file", "", nil, "p.csv: empty file: no header row", ErrEmpty},
		{"header only", "label,score\n", nil, "p.csv: no data rows: the file has a header (line 1) and nothing else", ErrNoRows},
		{"missing column", "label,score\n1,0.5\n", []string{"label", "weight"}, `p.csv: header (line 1), column "weight": column not found (columns: label, score)`, ErrMissingColumn},
		{"short row", "label,score,sex\n1,0.5,F\n0,0.2\n", nil, `p.csv: row 2 (line 3), column "sex": wrong number of fields: 2 fields, header has 3`, ErrRagged},
		{"long row", "label,score\n1,0.5\n0,0.2,9\n", nil, `p.csv: row 2 (line 3): wrong number of fields: 3 fields, header has 2`, ErrRagged},
		{"unclosed quote", "a,b\n1,\"x\n", nil, `p.csv: row 1 (line 2): syntax error: quoted field is not closed`, ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, "p.csv", tt.content)
			_, _, err := collect(t, p, Options{Columns: tt.cols, Name: "p.csv"})
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

// TestScanCSVManyChunks checks row numbering and error order across
// blocks handled by several workers.
func TestScanCSVManyChunks(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("id,v\n")
	const n = 300000
	for i := 1; i <= n; i++ {
		if i%1000 == 0 {
			fmt.Fprintf(&b, "%d,\"%d\"\n", i, i)
		} else {
			fmt.Fprintf(&b, "%d,%d\n", i, i)
		}
	}
	p := write(t, "big.csv", b.String())
	var mu sync.Mutex
	bad := 0
	info, err := Scan(context.Background(), p, Options{Workers: 3}, func(_ int, r *Row) error {
		id, err := r.Float(0)
		if err != nil {
			return err
		}
		if int64(id) != r.Num() || r.Line() != r.Num()+1 {
			mu.Lock()
			bad++
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if info.Rows != n || bad != 0 {
		t.Fatalf("rows %d, misnumbered %d", info.Rows, bad)
	}
	// Two bad rows far apart: the first in file order is reported.
	s := strings.Replace(b.String(), "\n250000,250000\n", "\n250000,x\n", 1)
	s = strings.Replace(s, "\n200001,200001\n", "\n200001,y\n", 1)
	p = write(t, "bad.csv", s)
	_, err = Scan(context.Background(), p, Options{Workers: 3, Name: "bad.csv"}, func(_ int, r *Row) error {
		_, err := r.Float(1)
		return err
	})
	want := `bad.csv: row 200001 (line 200002), column "v": not a number: "y"`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestScanGzipAndJSONL(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("a,b\n1,2\n"))
	zw.Close()
	p := write(t, "t.csv.gz", gz.String())
	got, info, err := collect(t, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1:2:1|2"}, got); diff != "" {
		t.Error(diff)
	}
	if !strings.HasPrefix(info.SHA256, "sha256:") {
		t.Error(info.SHA256)
	}

	p = write(t, "t.jsonl", `{"label": 1, "score": 0.5, "sex": "F"}`+"\n\n"+`{"label": true, "sex": null, "score": 1e-3}`+"\n")
	got, _, err = collect(t, p, Options{Columns: []string{"sex", "label", "score"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1:1:F|1|0.5", "3:3:<null>|true|1e-3"}, got); diff != "" {
		t.Error(diff)
	}
	p = write(t, "t.jsonl", `{"label": 1}`+"\n"+`[1]`+"\n")
	_, _, err = collect(t, p, Options{Name: "t.jsonl"})
	if want := "t.jsonl: row 2 (line 2): syntax error: json: cannot unmarshal array into Go value of type map[string]json.RawMessage"; err == nil || err.Error() != want {
		t.Errorf("got %v", err)
	}
}

func TestScanParquet(t *testing.T) {
	type rec struct {
		Label int64   `parquet:"label"`
		Score float64 `parquet:"score"`
		Sex   *string `parquet:"sex,optional"`
	}
	f := "F"
	p := filepath.Join(t.TempDir(), "t.parquet")
	if err := parquet.WriteFile(p, []rec{{1, 0.25, &f}, {0, 0.5, nil}}); err != nil {
		t.Fatal(err)
	}
	got, info, err := collect(t, p, Options{Columns: []string{"sex", "score", "label"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1:0:F|0.25|1", "2:0:<null>|0.5|0"}, got); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"label", "score", "sex"}, info.Header); diff != "" {
		t.Error(diff)
	}
}

func TestParseFloat(t *testing.T) {
	for _, s := range []string{"0", "1", "-2.5", "0.1", "0.30000000000000004", "123456789012345", "1e-3", "+7", ".5", "1.", "0.000123", "99999999999999999999", "1.7976931348623157e308", "4.9e-324"} {
		got, ok := ParseFloat([]byte(s))
		var want float64
		fmt.Sscan(s, &want)
		if !ok || got != want {
			t.Errorf("ParseFloat(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "-", ".", "abc", "1,5", "0x1p3x", "1..2"} {
		if _, ok := ParseFloat([]byte(s)); ok {
			t.Errorf("ParseFloat(%q) ok", s)
		}
	}
}

// TestErrorsClipHugeInput: errors name a huge header or cell without
// repeating it, so a 1 GB header cannot make a 1 GB message.
func TestErrorsClipHugeInput(t *testing.T) {
	big := strings.Repeat("h", 4<<20)
	var many strings.Builder
	for i := range 1 << 17 {
		fmt.Fprintf(&many, "col%d,", i)
	}
	many.WriteString("label")
	tests := []struct {
		name, content string
		cols          []string
	}{
		{"huge column name, column missing", big + ",label\n1,0\n", []string{"score"}},
		{"huge header of many columns", many.String() + "\n" + strings.Repeat("1,", 1<<17) + "0\n", []string{"score"}},
		{"huge duplicate column", big + "," + big + "\n1,0\n", nil},
		{"huge column of a short row", "a," + big + "\n1\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, "p.csv", tt.content)
			_, _, err := collect(t, p, Options{Columns: tt.cols, Name: "p.csv"})
			if err == nil {
				t.Fatal("no error")
			}
			if n := len(err.Error()); n > 2048 {
				t.Errorf("error is %d bytes: %.300s", n, err.Error())
			}
		})
	}
	t.Run("huge cell not a number", func(t *testing.T) {
		p := write(t, "p.csv", "score\n"+big+"\n")
		_, err := Scan(context.Background(), p, Options{Name: "p.csv"}, func(_ int, r *Row) error {
			_, err := r.Float(0)
			return err
		})
		if err == nil || !errors.Is(err, ErrNotNumber) {
			t.Fatalf("err = %.300v, want ErrNotNumber", err)
		}
		if n := len(err.Error()); n > 2048 {
			t.Errorf("error is %d bytes: %.300s", n, err.Error())
		}
	})
}

// TestScanNoDigest checks that NoDigest only leaves out the digest: the
// same rows, and the digest the file has without it.
func TestScanNoDigest(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"t.csv", "a,b\n1,2\n3,4\n"},
		{"t.jsonl", `{"a": 1, "b": 2}` + "\n" + `{"a": 3, "b": 4}` + "\n"},
	} {
		p := write(t, tc.name, tc.body)
		want, info, err := collect(t, p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if info.SHA256 != digest.Bytes([]byte(tc.body)) {
			t.Errorf("%s: digest %s", tc.name, info.SHA256)
		}
		got, info, err := collect(t, p, Options{NoDigest: true})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: rows (-with digest +without):\n%s", tc.name, diff)
		}
		if info.SHA256 != "" {
			t.Errorf("%s: digest %q under NoDigest", tc.name, info.SHA256)
		}
	}
}
