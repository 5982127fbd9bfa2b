package safefile

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestOpenIn(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	write := func(dir, name, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, name string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	write(root, "a/spec.cue", "inside")
	write(outside, "secret", "outside")
	link("a/spec.cue", "rel.cue")
	link(filepath.Join(root, "a", "spec.cue"), "abs.cue")
	link("/dev/zero", "zero.cue")
	link(filepath.Join(outside, "secret"), "secret.cue")
	link("../"+filepath.Base(outside)+"/secret", "climb.cue")
	link(outside, "outdir")
	if err := syscall.Mkfifo(filepath.Join(root, "fifo.cue"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		want    string
		wantErr error
	}{
		{name: "a/spec.cue", want: "inside"},
		{name: filepath.Join(root, "a/spec.cue"), want: "inside"},
		{name: "rel.cue", want: "inside"},
		{name: "abs.cue", wantErr: ErrOutside},
		{name: "zero.cue", wantErr: ErrOutside},
		{name: "secret.cue", wantErr: ErrOutside},
		{name: "climb.cue", wantErr: ErrOutside},
		{name: "outdir/secret", wantErr: ErrOutside},
		{name: "../x", wantErr: ErrOutside},
		{name: "fifo.cue", wantErr: ErrNotRegular},
		{name: "a", wantErr: ErrNotRegular},
		{name: "missing.cue", wantErr: os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			b, err := ReadFileIn(root, tt.name, Spec)
			if time.Since(start) > time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.name) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(b)); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestOpenRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.csv")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{fifo, zero, dir} {
		if _, err := ReadFile(name, Evidence); !errors.Is(err, ErrNotRegular) {
			t.Errorf("ReadFile(%s) = %v, want ErrNotRegular", name, err)
		}
	}
}

func TestReadFileLimit(t *testing.T) {
	t.Cleanup(func() { Configure("") })
	dir := t.TempDir()
	name := filepath.Join(dir, "k.pem")
	if err := os.WriteFile(name, bytes.Repeat([]byte("k"), 2048), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Configure("key=2KiB"); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(name, Key); err != nil || len(b) != 2048 {
		t.Fatalf("at the limit: %d bytes, %v", len(b), err)
	}
	if err := Configure("key=2047"); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(name, Key)
	var le *LimitError
	if !errors.As(err, &le) || !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	if want := name + ": larger than the key limit of 2047B (raise it with SLIPWAY_LIMITS=key=SIZE)"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestParse(t *testing.T) {
	got, err := Parse(" evidence = 8GiB, ratio=500,key=1MiB ")
	if err != nil {
		t.Fatal(err)
	}
	want := Default
	want.Sizes[Evidence] = 8 << 30
	want.Sizes[Key] = 1 << 20
	want.Ratio = 500
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	for _, bad := range []string{"evidence", "bogus=1", "key=0", "key=-1", "ratio=0", "spec=1TB"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestDecompressedBomb(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zeros := make([]byte, 1<<20)
	for range 32 { // 32 MiB of zeros, about 32 KiB compressed
		zw.Write(zeros)
	}
	zw.Close()
	in := &CountingReader{R: bytes.NewReader(buf.Bytes())}
	zr, err := gzip.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, Decompressed(zr, in, "bomb.csv.gz"))
	var le *LimitError
	if !errors.As(err, &le) || le.Ratio != Default.Ratio {
		t.Fatalf("err = %v, want the ratio limit", err)
	}
	if n > 8<<20 {
		t.Errorf("read %d bytes before stopping", n)
	}
	if !strings.Contains(err.Error(), "bomb.csv.gz: decompresses to more than 200 times its size") {
		t.Errorf("error = %q", err)
	}
}

func TestDecompressedFitsRatio(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for i := range 200000 {
		zw.Write([]byte(strings.Repeat("x", i%7) + "\n"))
	}
	zw.Close()
	in := &CountingReader{R: bytes.NewReader(buf.Bytes())}
	zr, _ := gzip.NewReader(in)
	if _, err := io.Copy(io.Discard, Decompressed(zr, in, "ok.csv.gz")); err != nil {
		t.Fatal(err)
	}
}
