// Package ledger keeps Slipway's tamper-evident release ledger inside the
// platform repository: one signed envelope per release under
// releases/ENV/MODEL/VERSION.intoto.json, never overwritten, and an index,
// releases/ledger.jsonl, whose lines each carry the digest of the line
// before. Verification names every record that was deleted, reordered,
// replaced or edited.
//
// Two chains protect the ledger. The index chain links every line to the
// previous one; it is cheap to check but unsigned, so anyone who can write
// the repository can rebuild it. The signed chain lives in each release's
// predicate (the digest of the previous release of the same model in the
// same environment) and can only be rebuilt with a trusted key.
package ledger

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/slipway-ml/slipway/internal/atomicfile"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/safefile"
)

// Dir is the ledger's directory, relative to the repository root.
const Dir = "releases"

// IndexFile is the ledger index inside Dir.
const IndexFile = "ledger.jsonl"

// RecordSuffix ends every release record's file name.
const RecordSuffix = ".intoto.json"

// Errors callers branch on.
var (
	// ErrExists means a release of that version was already recorded.
	ErrExists = errors.New("release already recorded")
	// ErrDamaged means the index does not verify, so nothing may be
	// appended until it is repaired.
	ErrDamaged = errors.New("ledger index is damaged")
	// ErrUntrusted is wrapped by a CheckFunc's error when a record is
	// signed, but not by a trusted key.
	ErrUntrusted = errors.New("signed by an untrusted key")
)

// RecordKind is what a ledger record is. Every kind shares the index, its
// chain and the signed ledger-wide chain; each kind has its own path rule
// and its own in-toto predicate type (attest.PredicateTypeOf).
type RecordKind string

// Record kinds. A new kind adds a constant here and to kinds; its records
// live at releases/ENV/MODEL/KIND/NAME.intoto.json (KindPath).
const (
	// Release is a signed release; index entries of releases carry no
	// kind, so ledgers written before kinds existed verify unchanged.
	Release RecordKind = "release"
	// Rollback is a rollback of a model to an earlier release.
	Rollback RecordKind = "rollback"
	// Monitoring is a monitoring record of a model in an environment.
	Monitoring RecordKind = "monitoring"
)

// kinds are the record kinds other than releases.
var kinds = map[RecordKind]bool{Rollback: true, Monitoring: true}

// Entry is one line of the index.
type Entry struct {
	Seq int `json:"seq"`
	// Kind is the record's kind, omitted for releases.
	Kind RecordKind `json:"kind,omitempty"`
	// Name is the record's name inside its kind's directory, for kinds
	// other than releases (a release is named by Version and Revision).
	Name        string `json:"name,omitempty"`
	Environment string `json:"environment"`
	Model       string `json:"model"`
	Version     string `json:"version"`
	// Revision counts releases of the same version of the model in the
	// environment (a changed plan, a rollback); 0 and 1 both mean the first.
	Revision int `json:"revision,omitempty"`
	// Path is the record's repo-relative, slash-separated path.
	Path string `json:"path"`
	// Record is the digest of the record file (the envelope's bytes).
	Record string `json:"record"`
	// Payload is the digest of the envelope's payload, which survives a
	// signature being swapped.
	Payload string `json:"payload"`
	// Previous is the Record digest of the previous release of the same
	// model in the same environment, empty for the first.
	Previous string `json:"previous"`
	// PrevEntry is the digest of the previous index line's bytes.
	PrevEntry  string `json:"prevEntry"`
	RecordedAt string `json:"recordedAt"`
}

var namePart = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// RecordPath returns the repo-relative path of the first release record
// of a model version in an environment.
func RecordPath(env, model, version string) (string, error) {
	return RevisionPath(env, model, version, 1)
}

// RevisionPath returns the path of a release record of a given revision:
// VERSION.intoto.json for the first, VERSION_rN.intoto.json after. Semantic
// versions never contain "_", so a revision never looks like a version.
func RevisionPath(env, model, version string, revision int) (string, error) {
	for _, p := range []string{env, model, version} {
		if !namePart.MatchString(p) || strings.Contains(p, "..") || strings.Contains(p, "_") {
			return "", fmt.Errorf("release record name part %q: want letters, digits, '.', '+', '-'", p)
		}
	}
	name := version
	if revision > 1 {
		name = fmt.Sprintf("%s_r%d", version, revision)
	}
	return path.Join(Dir, env, model, name+RecordSuffix), nil
}

// KindPath returns the repo-relative path of a record of a kind other
// than a release: releases/ENV/MODEL/KIND/NAME.intoto.json. Release
// records sit directly in the model's directory, named by version, so the
// two never meet.
func KindPath(kind RecordKind, env, model, name string) (string, error) {
	if !kinds[kind] {
		return "", fmt.Errorf("ledger record kind %q: want one of release, rollback, monitoring", kind)
	}
	for _, p := range []string{env, model, name} {
		if !namePart.MatchString(p) || strings.Contains(p, "..") {
			return "", fmt.Errorf("%s record name part %q: want letters, digits, '.', '_', '+', '-'", kind, p)
		}
	}
	return path.Join(Dir, env, model, string(kind), name+RecordSuffix), nil
}

// RecordKind returns the entry's kind; an entry without one is a release.
func (e Entry) RecordKind() RecordKind {
	if e.Kind == "" {
		return Release
	}
	return e.Kind
}

// IsRelease reports whether the entry records a release.
func (e Entry) IsRelease() bool { return e.RecordKind() == Release }

// wantPath is where the entry's own fields say its record lives.
func (e Entry) wantPath() (string, error) {
	if e.IsRelease() {
		if e.Name != "" {
			return "", fmt.Errorf("a release entry carries no name")
		}
		return RevisionPath(e.Environment, e.Model, e.Version, e.Revision)
	}
	return KindPath(e.Kind, e.Environment, e.Model, e.Name)
}

// rev normalises a revision: 0 means the first.
func rev(r int) int {
	if r < 1 {
		return 1
	}
	return r
}

// Ledger is the ledger of one repository.
type Ledger struct {
	root string
}

// Open returns the ledger of the repository at root; it need not exist yet.
func Open(root string) *Ledger { return &Ledger{root: root} }

func (l *Ledger) abs(rel string) string { return filepath.Join(l.root, filepath.FromSlash(rel)) }

// index is the parsed index with each line's raw bytes.
type index struct {
	entries []Entry
	lines   [][]byte
	// bad holds the 1-based numbers of lines that are not entries.
	bad []int
}

func (l *Ledger) readIndex() (*index, error) {
	b, err := safefile.ReadFileIn(l.root, l.abs(path.Join(Dir, IndexFile)), safefile.Record)
	if errors.Is(err, fs.ErrNotExist) {
		return &index{}, nil
	}
	if err != nil {
		return nil, err
	}
	ix := &index{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil || e.Path == "" {
			ix.bad = append(ix.bad, n)
			continue
		}
		ix.entries = append(ix.entries, e)
		ix.lines = append(ix.lines, bytes.Clone(line))
	}
	return ix, sc.Err()
}

// Entries returns the index entries in ledger order.
func (l *Ledger) Entries() ([]Entry, error) {
	ix, err := l.readIndex()
	if err != nil {
		return nil, err
	}
	return ix.entries, nil
}

// Head returns the digest of the index's last line, "" for an empty
// ledger. Verify's Report.CheckHead compares a ledger with it.
func (l *Ledger) Head() (string, error) {
	ix, err := l.readIndex()
	if err != nil || len(ix.lines) == 0 {
		return "", err
	}
	return digest.Bytes(ix.lines[len(ix.lines)-1]), nil
}

// lock serialises appends across processes. The lock file is never
// removed: flock locks die with their process, so a crash leaves no stale
// lock behind.
func (l *Ledger) lock() (func(), error) {
	p := l.abs(path.Join(Dir, ".lock"))
	// A committed symlink at releases/ would take every write elsewhere.
	if err := atomicfile.CheckDir(l.root, filepath.Dir(p)); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock ledger: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// Place is a new record's place in the ledger, which its signed predicate
// repeats.
type Place struct {
	// Previous is the digest of the previous record of the same kind for
	// the same model in the same environment, empty for the first.
	Previous string
	// LedgerPrevious is the digest of the ledger's last record, empty for
	// the first record of the ledger.
	LedgerPrevious string
	// Revision is the revision of this version, 1 for the first; only
	// releases have revisions.
	Revision int
	// Name is the record's name, for kinds other than releases.
	Name string
	// Path is where the record will be written, relative to the
	// repository root: a record can name it before it is signed.
	Path string
}

// BuildFunc makes the signed record of a release given its place in the
// ledger. It returns the envelope bytes and the envelope's payload.
type BuildFunc func(ctx context.Context, place Place) (envelope, payload []byte, err error)

// Append records a release of model version in env, as the next revision
// of that version when it was released there before. build runs under the
// ledger's lock so two releases cannot claim the same predecessor. The
// record is written before the index line; a crash in between leaves an
// unlisted record that verification reports.
func (l *Ledger) Append(ctx context.Context, env, model, version string, now time.Time, build BuildFunc) (Entry, error) {
	if _, err := RecordPath(env, model, version); err != nil {
		return Entry{}, err
	}
	return l.append(ctx, Release, env, model, version, now, build)
}

// AppendRecord records a record of a kind other than a release (a
// rollback, a monitoring record) for model in env; version is the model
// version the record concerns. The ledger names the record after now and
// its sequence number (20261202T101500Z-7) and passes the name to build in
// Place.Name, which the signed predicate must repeat. Like Append, build
// runs under the ledger's lock.
func (l *Ledger) AppendRecord(ctx context.Context, kind RecordKind, env, model, version string, now time.Time, build BuildFunc) (Entry, error) {
	if _, err := KindPath(kind, env, model, "x"); err != nil {
		return Entry{}, err
	}
	if !namePart.MatchString(version) {
		return Entry{}, fmt.Errorf("%s record version %q: want letters, digits, '.', '+', '-'", kind, version)
	}
	return l.append(ctx, kind, env, model, version, now, build)
}

// RecordName is the name AppendRecord gives the seq-th record of the
// ledger made at now.
func RecordName(now time.Time, seq int) string {
	return fmt.Sprintf("%s-%d", now.UTC().Format("20060102T150405Z"), seq)
}

func (l *Ledger) append(ctx context.Context, kind RecordKind, env, model, version string, now time.Time, build BuildFunc) (Entry, error) {
	unlock, err := l.lock()
	if err != nil {
		return Entry{}, err
	}
	defer unlock()
	ix, err := l.readIndex()
	if err != nil {
		return Entry{}, err
	}
	if err := ix.chainProblem(); err != nil {
		return Entry{}, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	prev, revision := "", 1
	for _, e := range ix.entries {
		if e.Environment == env && e.Model == model && e.RecordKind() == kind {
			prev = e.Record
			if kind == Release && e.Version == version && rev(e.Revision) >= revision {
				revision = rev(e.Revision) + 1
			}
		}
	}
	e := Entry{Seq: len(ix.entries) + 1, Environment: env, Model: model, Version: version}
	place := Place{Previous: prev}
	if kind == Release {
		place.Revision = revision
		if revision > 1 {
			e.Revision = revision
		}
	} else {
		e.Kind, e.Name = kind, RecordName(now, e.Seq)
		place.Name = e.Name
	}
	rel, err := e.wantPath()
	if err != nil {
		return Entry{}, err
	}
	if _, err := os.Lstat(l.abs(rel)); err == nil {
		return Entry{}, fmt.Errorf("%s: %w (not in the index: run slipway verify --repair)", rel, ErrExists)
	}
	place.Path = rel
	if prev != "" {
		// Chaining onto a record that changed would sign over the damage.
		last := ix.last(kind, env, model)
		if d, err := digest.File(l.abs(last.Path)); err != nil || d != prev {
			return Entry{}, fmt.Errorf("%w: previous %s %s does not match the index", ErrDamaged, kind, last.Path)
		}
	}
	if n := len(ix.entries); n > 0 {
		last := ix.entries[n-1]
		// Chaining onto a record that changed would sign over the damage.
		if d, err := digest.File(l.abs(last.Path)); err != nil || d != last.Record {
			return Entry{}, fmt.Errorf("%w: the last record %s does not match the index", ErrDamaged, last.Path)
		}
		place.LedgerPrevious = last.Record
	}
	envelope, payload, err := build(ctx, place)
	if err != nil {
		return Entry{}, err
	}
	e.Path = rel
	e.Record = digest.Bytes(envelope)
	e.Payload = digest.Bytes(payload)
	e.Previous = prev
	e.RecordedAt = now.UTC().Format(time.RFC3339)
	if n := len(ix.lines); n > 0 {
		e.PrevEntry = digest.Bytes(ix.lines[n-1])
	}
	line, err := json.Marshal(e)
	if err != nil {
		return Entry{}, err
	}
	if err := atomicfile.CreateNewIn(l.root, l.abs(rel), envelope, 0o644); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return Entry{}, fmt.Errorf("%s: %w", rel, ErrExists)
		}
		return Entry{}, fmt.Errorf("write %s: %w", rel, err)
	}
	if err := l.writeIndex(ix, line); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// last returns the index's last entry of a kind for model in env.
func (ix *index) last(kind RecordKind, env, model string) Entry {
	var last Entry
	for _, e := range ix.entries {
		if e.Environment == env && e.Model == model && e.RecordKind() == kind {
			last = e
		}
	}
	return last
}

// chainProblem checks the index chain alone, as a guard before appending.
func (ix *index) chainProblem() error {
	if len(ix.bad) > 0 {
		return fmt.Errorf("line %d is not an index entry", ix.bad[0])
	}
	for i, e := range ix.entries {
		want := ""
		if i > 0 {
			want = digest.Bytes(ix.lines[i-1])
		}
		if e.Seq != i+1 || e.PrevEntry != want {
			return fmt.Errorf("entry %d (%s) does not follow entry %d", e.Seq, e.Path, i)
		}
	}
	return nil
}
