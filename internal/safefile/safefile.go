// Package safefile opens and reads the files a pull request controls: specs,
// policies, evidence, ledger records and keys. A file is read only when it is
// a regular file (never a device, FIFO or socket, which could block a read
// forever or never end) and, when a root is given, only when it resolves
// inside that root. Every read is capped: a file over its limit is an error
// naming the file and the limit, so a committed file cannot exhaust memory
// or time.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Sentinel errors, for errors.Is.
var (
	// ErrNotRegular is a device, FIFO, socket or directory where a file
	// was expected.
	ErrNotRegular = errors.New("not a regular file")
	// ErrOutside is a path that resolves, through a symlink or "..",
	// outside the directory it must stay in.
	ErrOutside = errors.New("resolves outside the repository")
	// ErrTooLarge is a file, or its decompressed content, over its limit.
	ErrTooLarge = errors.New("over the size limit")
)

// Kind is a class of file, each with its own size limit.
type Kind int

// The kinds of files Slipway reads.
const (
	// Spec is one .cue file of the platform repository.
	Spec Kind = iota
	// Policy is one .rego file of the repository's policies.
	Policy
	// Evidence is the content of one evidence file (a table or a JUnit
	// report), counted after decompression.
	Evidence
	// Row is one record of a CSV or JSON Lines evidence file.
	Row
	// Record is one document Slipway reads whole: a ledger record or
	// index, an evidence summary, a check result, a runbook.
	Record
	// Key is one PEM key file.
	Key
	kinds
)

var kindNames = [kinds]string{"spec", "policy", "evidence", "row", "record", "key"}

func (k Kind) String() string {
	if k >= 0 && k < kinds {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Limits are the size caps in bytes for each kind of file, and the largest
// ratio of decompressed to compressed size a compressed evidence file may
// have.
type Limits struct {
	Sizes [kinds]int64
	// Ratio bounds decompressed/compressed size; output up to ratioFloor
	// is always allowed, since tiny files compress oddly.
	Ratio int64
}

// ratioFloor is the decompressed size up to which the ratio is not checked.
const ratioFloor = 1 << 20

// Default are the limits when SLIPWAY_LIMITS sets none. They are far above
// what a real platform needs and far below what exhausts a CI runner.
var Default = Limits{
	Sizes: [kinds]int64{
		Spec:     16 << 20,
		Policy:   4 << 20,
		Evidence: 4 << 30,
		Row:      16 << 20,
		Record:   64 << 20,
		Key:      64 << 10,
	},
	Ratio: 200,
}

// EnvVar is the environment variable Configure's text comes from.
const EnvVar = "SLIPWAY_LIMITS"

var (
	mu     sync.RWMutex
	limits = Default
)

// Current returns the limits in force.
func Current() Limits {
	mu.RLock()
	defer mu.RUnlock()
	return limits
}

// Limit returns the size limit for a kind of file.
func Limit(k Kind) int64 { return Current().Sizes[k] }

// Configure sets the limits from text such as "evidence=8GiB,ratio=500":
// comma-separated kind=size pairs, sizes in bytes or with a KiB, MiB or GiB
// suffix, and ratio=N. Kinds not named keep their defaults; "" restores the
// defaults. The limits come from the workflow's environment, not from the
// repository, so a pull request cannot raise them.
func Configure(text string) error {
	l, err := Parse(text)
	if err != nil {
		return err
	}
	mu.Lock()
	limits = l
	mu.Unlock()
	return nil
}

// Parse parses Configure's text over the defaults.
func Parse(text string) (Limits, error) {
	l := Default
	for item := range strings.SplitSeq(text, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, val, ok := strings.Cut(item, "=")
		if !ok {
			return l, fmt.Errorf("%s: %q: want kind=size", EnvVar, item)
		}
		name = strings.TrimSpace(name)
		if name == "ratio" {
			n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			if err != nil || n < 1 {
				return l, fmt.Errorf("%s: ratio %q: want a whole number of at least 1", EnvVar, val)
			}
			l.Ratio = n
			continue
		}
		k := Kind(-1)
		for i, kn := range kindNames {
			if kn == name {
				k = Kind(i)
			}
		}
		if k < 0 {
			return l, fmt.Errorf("%s: unknown limit %q (want one of %s, ratio)", EnvVar, name, strings.Join(kindNames[:], ", "))
		}
		n, err := ParseSize(val)
		if err != nil {
			return l, fmt.Errorf("%s: %s: %w", EnvVar, name, err)
		}
		l.Sizes[k] = n
	}
	return l, nil
}

// ParseSize parses a byte count such as 1048576, 512KiB, 16MiB or 4GiB.
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: want a positive number of bytes, KiB, MiB or GiB", s)
	}
	return n * mult, nil
}

// FormatSize renders a byte count the way Configure reads it.
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	}
	return strconv.FormatInt(n, 10) + "B"
}

// LimitError is a file over its size limit.
type LimitError struct {
	Name  string
	Kind  Kind
	Limit int64
	// Ratio is set when the decompression ratio, not the size, was
	// exceeded.
	Ratio int64
}

// Error names the file, unless Name is empty for a caller that names it
// itself, and the limit.
func (e *LimitError) Error() string {
	var msg string
	if e.Ratio > 0 {
		msg = fmt.Sprintf("decompresses to more than %d times its size (the ratio limit; raise it with %s=ratio=N)", e.Ratio, EnvVar)
	} else {
		msg = fmt.Sprintf("larger than the %s limit of %s (raise it with %s=%s=SIZE)", e.Kind, FormatSize(e.Limit), EnvVar, e.Kind)
	}
	if e.Name == "" {
		return msg
	}
	return e.Name + ": " + msg
}

// Unwrap makes a LimitError ErrTooLarge.
func (e *LimitError) Unwrap() error { return ErrTooLarge }

// Open opens the regular file at name for reading. A device, FIFO, socket
// or directory is refused without reading from it: the file is opened
// non-blocking, so a FIFO with no writer cannot hang the open, and its
// type is checked on the open descriptor, so a swap after the check is
// caught.
func Open(name string) (*os.File, error) {
	if fi, err := os.Stat(name); err != nil {
		return nil, err
	} else if err := regular(name, fi); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	return checkOpen(f, name)
}

// OpenIn opens name, a path relative to root or an absolute path under it,
// like Open, and only when it resolves inside root: a symlink may lead to
// another file of the repository, never out of it.
func OpenIn(root, name string) (*os.File, error) {
	r, err := OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Open(name)
}

// Root is a directory whose files are opened only when they resolve inside
// it, for reading many files of one repository. It is safe for concurrent
// use.
type Root struct {
	dir string
	r   *os.Root
}

// OpenRoot opens the directory dir as a Root.
func OpenRoot(dir string) (*Root, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &Root{dir: dir, r: r}, nil
}

// Close releases the root's directory.
func (r *Root) Close() error { return r.r.Close() }

// Open opens name (relative to the root, or absolute under it) like the
// package's Open, refusing a path that resolves outside the root.
func (r *Root) Open(name string) (*os.File, error) {
	rel, err := relTo(r.dir, name)
	if err != nil {
		return nil, err
	}
	// No Stat first: a device cannot be committed, and a symlink to one
	// leads outside the root; a FIFO opens at once non-blocking.
	f, err := r.r.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, explain(r.dir, name, rel, err)
	}
	return checkOpen(f, name)
}

// ReadFile reads name like the package's ReadFile, refusing a path that
// resolves outside the root.
func (r *Root) ReadFile(name string, kind Kind) ([]byte, error) {
	f, err := r.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(f, name, kind)
}

// relTo makes name relative to root, refusing names that climb out of
// it. name is relative to root, or starts with root (as given, absolute or
// not), as filepath.Join(root, rel) makes it.
func relTo(root, name string) (string, error) {
	rel := filepath.Clean(name)
	croot := filepath.Clean(root)
	switch {
	case filepath.IsAbs(name) || rel == croot || strings.HasPrefix(rel, croot+string(filepath.Separator)):
		r, err := filepath.Rel(croot, rel)
		if err != nil {
			return "", &fs.PathError{Op: "open", Path: name, Err: ErrOutside}
		}
		rel = r
	}
	if rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", &fs.PathError{Op: "open", Path: name, Err: ErrOutside}
	}
	return rel, nil
}

// explain turns os.Root's refusal of a path that escapes it into
// ErrOutside, naming where the path leads. os.Root does not export the
// error, hence the match on its text.
func explain(root, name, rel string, err error) error {
	if !strings.Contains(err.Error(), "path escapes from parent") {
		return err
	}
	full := filepath.Join(root, rel)
	target, rerr := filepath.EvalSymlinks(full)
	if rerr != nil {
		target = "a path that does not resolve"
	} else if rootResolved, rerr := filepath.EvalSymlinks(root); rerr == nil && isUnder(rootResolved, target) {
		// os.Root refuses absolute symlinks even into the root: a
		// checkout elsewhere would see them lead out.
		return &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w: an absolute symlink (to %s); make it relative", ErrOutside, target)}
	}
	return &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w (a symlink leads to %s)", ErrOutside, target)}
}

// isUnder reports whether path is dir or inside it.
func isUnder(dir, path string) bool {
	r, err := filepath.Rel(dir, path)
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) && !filepath.IsAbs(r)
}

func regular(name string, fi fs.FileInfo) error {
	if fi.Mode().IsRegular() {
		return nil
	}
	what := "a special file"
	switch m := fi.Mode(); {
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a FIFO"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeDevice != 0:
		what = "a device"
	}
	return &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w: it is %s", ErrNotRegular, what)}
}

func checkOpen(f *os.File, name string) (*os.File, error) {
	fi, err := f.Stat()
	if err == nil {
		err = regular(name, fi)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadFile reads the regular file at name whole, up to the limit of kind.
func ReadFile(name string, kind Kind) ([]byte, error) {
	f, err := Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(f, name, kind)
}

// ReadFileIn reads name, which must resolve inside root, like ReadFile.
func ReadFileIn(root, name string, kind Kind) ([]byte, error) {
	f, err := OpenIn(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(f, name, kind)
}

func readAll(f *os.File, name string, kind Kind) ([]byte, error) {
	limit := Limit(kind)
	size := int64(0)
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	if size > limit {
		return nil, &LimitError{Name: name, Kind: kind, Limit: limit}
	}
	// One byte past the limit tells a file that grew since Stat.
	b := make([]byte, 0, size+1)
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			return nil, &LimitError{Name: name, Kind: kind, Limit: limit}
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// LimitReader returns a reader of r that fails with a *LimitError once
// more than the limit of kind has been read.
func LimitReader(r io.Reader, name string, kind Kind) io.Reader {
	return &limited{r: r, name: name, kind: kind, left: Limit(kind)}
}

type limited struct {
	r    io.Reader
	name string
	kind Kind
	left int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, &LimitError{Name: l.name, Kind: l.kind, Limit: Limit(l.kind)}
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, &LimitError{Name: l.name, Kind: l.kind, Limit: Limit(l.kind)}
	}
	return n, err
}

// Decompressed bounds the output of a decompressor: at most the Evidence
// limit, and at most Ratio times the compressed bytes consumed so far
// (counted by CountingReader on the compressed stream), once past a small
// floor. A decompression bomb stops with a *LimitError long before it
// exhausts memory or time.
func Decompressed(r io.Reader, compressed *CountingReader, name string) io.Reader {
	l := Current()
	return &ratioLimited{r: r, in: compressed, name: name, max: l.Sizes[Evidence], ratio: l.Ratio}
}

type ratioLimited struct {
	r     io.Reader
	in    *CountingReader
	name  string
	max   int64
	ratio int64
	out   int64
}

func (d *ratioLimited) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.out += int64(n)
	if d.out > d.max {
		return n, &LimitError{Name: d.name, Kind: Evidence, Limit: d.max}
	}
	if d.out > ratioFloor && d.out > d.ratio*d.in.N {
		return n, &LimitError{Name: d.name, Kind: Evidence, Ratio: d.ratio}
	}
	return n, err
}

// CountingReader counts the bytes read through it.
type CountingReader struct {
	R io.Reader
	N int64
}

func (c *CountingReader) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	return n, err
}
