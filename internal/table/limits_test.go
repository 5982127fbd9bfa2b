package table

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/slipway-ml/slipway/internal/safefile"
)

// TestScanRefusesExhaustion: a gzip bomb, an endless or blocking special
// file, an oversized file or row each stop promptly with an error naming
// the file and the limit, instead of exhausting memory or hanging.
func TestScanRefusesExhaustion(t *testing.T) {
	t.Cleanup(func() { safefile.Configure("") })
	dir := t.TempDir()
	// 64 MiB of zeros after a header: about 64 KiB of gzip.
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write([]byte("a,b\n"))
	zeros := make([]byte, 1<<20)
	for range 64 {
		zw.Write(zeros)
	}
	zw.Close()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bombPath := write("bomb.csv.gz", bomb.Bytes())
	fifo := filepath.Join(dir, "fifo.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.jsonl")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	long := write("long.csv", []byte("a,b\n1,"+strings.Repeat("x", 3<<20)+"\n"))
	big := write("big.jsonl", []byte(strings.Repeat(`{"a":1}`+"\n", 1<<17)))
	tests := []struct {
		name   string
		path   string
		limits string
		want   string
		is     error
	}{
		{"gzip bomb", bombPath, "", "bomb.csv.gz: decompresses to more than 200 times its size (the ratio limit; raise it with SLIPWAY_LIMITS=ratio=N)", safefile.ErrTooLarge},
		{"gzip over the evidence limit", bombPath, "evidence=2MiB,ratio=100000", "bomb.csv.gz: larger than the evidence limit of 2MiB", safefile.ErrTooLarge},
		{"fifo", fifo, "", "fifo.csv: not a regular file: it is a FIFO", safefile.ErrNotRegular},
		{"symlink to /dev/zero", zero, "", "zero.jsonl: not a regular file: it is a device", safefile.ErrNotRegular},
		{"row over the row limit", long, "row=2MiB", "long.csv: row at line 2: larger than the row limit of 2MiB", safefile.ErrTooLarge},
		{"plain over the evidence limit", big, "evidence=512KiB", "big.jsonl: larger than the evidence limit of 512KiB", safefile.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := safefile.Configure(tt.limits); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err := Scan(context.Background(), tt.path, Options{Name: filepath.Base(tt.path)}, func(int, *Row) error { return nil })
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestScanParquetOverEvidenceLimit(t *testing.T) {
	t.Cleanup(func() { safefile.Configure("") })
	type rec struct {
		A int64 `parquet:"a"`
	}
	rows := make([]rec, 10000)
	p := filepath.Join(t.TempDir(), "p.parquet")
	if err := parquet.WriteFile(p, rows); err != nil {
		t.Fatal(err)
	}
	if err := safefile.Configure("evidence=1KiB"); err != nil {
		t.Fatal(err)
	}
	_, err := Scan(context.Background(), p, Options{Name: "p.parquet"}, func(int, *Row) error { return nil })
	if want := "p.parquet: larger than the evidence limit of 1KiB"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

// TestScanJSONLDuplicateKey: encoding/json keeps the last of two equal
// keys; a row that says two things about one column is an error.
func TestScanJSONLDuplicateKey(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ data, want string }{
		"flat":   {`{"label": 1, "score": 0.5}` + "\n" + `{"label": 1, "score": 0.2, "label": 0}` + "\n", `t.jsonl: row 2 (line 2), column "label": syntax error: key appears twice in the object`},
		"nested": {`{"label": 1, "x": {"a": 1}}` + "\n" + `{"x": [1], "label": 0, "x": {}}` + "\n", `t.jsonl: row 2 (line 2), column "x": syntax error: key appears twice in the object`},
		"header": {`{"label": 1, "label": 0}` + "\n", `t.jsonl: row 1 (line 1), column "label": syntax error: key appears twice in the object`},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name+".jsonl")
			if err := os.WriteFile(p, []byte(tc.data), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Scan(context.Background(), p, Options{Name: "t.jsonl"}, func(int, *Row) error { return nil })
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %s", err, tc.want)
			}
		})
	}
}

// TestScanCSVCROnly: CR-only line endings are named as such, not reported
// as a duplicate column.
func TestScanCSVCROnly(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mac.csv")
	if err := os.WriteFile(p, []byte("label,score\r1,0.5\r0,0.5\r"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Scan(context.Background(), p, Options{Name: "mac.csv"}, func(int, *Row) error { return nil })
	want := "mac.csv: header (line 1): syntax error: the file's lines end in a carriage return alone (classic Mac OS line endings); save it with LF or CRLF line endings"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
}
