package ledger

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/parallel"
	"github.com/slipway-ml/slipway/internal/safefile"
)

// Kinds of findings.
const (
	// KindDeleted: a record or index entry is gone.
	KindDeleted = "deleted"
	// KindReordered: records are out of the order they were made in.
	KindReordered = "reordered"
	// KindReplaced: a record was swapped for another one, signed by an
	// untrusted key or for another release.
	KindReplaced = "replaced"
	// KindEdited: a record's or index entry's bytes changed after signing.
	KindEdited = "edited"
	// KindSignature: a record's payload is intact but its signature is
	// not the one it was recorded with and does not verify.
	KindSignature = "signature"
	// KindUnlisted: a record file the index does not list.
	KindUnlisted = "unlisted"
	// KindInvalid: a record fails a check of its content.
	KindInvalid = "invalid"
)

// Finding is one problem verification found.
type Finding struct {
	Kind string `json:"kind"`
	// Path names the record, repo-relative.
	Path string `json:"path"`
	// Seq is the record's index sequence number, 0 when not indexed.
	Seq     int    `json:"seq,omitempty"`
	Message string `json:"message"`
	// Index marks damage to the index itself, which puts every record's
	// place in the ledger in doubt.
	Index bool `json:"index,omitempty"`
}

// String is the finding as verify prints it: "kind: path: message".
func (f Finding) String() string { return fmt.Sprintf("%s: %s: %s", f.Kind, f.Path, f.Message) }

// Signed is what a record's signed predicate says about its place in the
// ledger.
type Signed struct {
	// Kind is the record's kind, from its predicate type; "" means a
	// release.
	Kind RecordKind
	// Name is the record's signed name, for kinds other than releases.
	Name        string
	Environment string
	Model       string
	Version     string
	// Revision is the predicate's revision; 0 and 1 both mean the first.
	Revision int
	// Previous is the predicate's digest of the previous record of the
	// same kind for the same model and environment.
	Previous string
	// LedgerPrevious is the predicate's digest of the ledger's previous
	// record; HasLedgerPrevious is false for records signed before
	// predicates carried it.
	LedgerPrevious    string
	HasLedgerPrevious bool
}

// CheckFunc verifies one record's signature and reads its predicate. Its
// error wraps ErrUntrusted when the record is signed by a key that is not
// trusted.
type CheckFunc func(ctx context.Context, rel string, envelope []byte) (Signed, error)

// Record is one verified index entry.
type Record struct {
	Entry
	// OK is true when the record passed every check of the ledger.
	OK bool
}

// Report is the outcome of verifying the ledger.
type Report struct {
	Records  []Record  `json:"records"`
	Findings []Finding `json:"findings"`
	// Head is the digest of the last index line; pinning it elsewhere
	// (a tag, a ticket) also protects the newest entry from rewriting.
	Head string `json:"head"`

	// lineDigests are the digests of the index lines, in order.
	lineDigests []string
}

// CheckHead compares the ledger with a head kept outside the repository
// (the digest of the index line that was last when it was pinned): the
// index must still hold that line, so the ledger may have grown since but
// lost or rewritten nothing up to it. It returns the finding, or nil.
func (r *Report) CheckHead(head string) *Finding {
	if head == "" {
		return nil
	}
	idx := path.Join(Dir, IndexFile)
	if len(r.lineDigests) == 0 {
		return &Finding{Kind: KindDeleted, Path: idx, Index: true, Message: fmt.Sprintf("the ledger is empty, but its head was pinned at %s", head)}
	}
	for _, d := range r.lineDigests {
		if d == head {
			return nil
		}
	}
	return &Finding{Kind: KindDeleted, Path: idx, Index: true, Message: fmt.Sprintf("the pinned head %s is not in the index (now %d entries, head %s): entries were removed or rewritten", head, len(r.lineDigests), r.Head)}
}

// OK reports whether the ledger verified without findings.
func (r *Report) OK() bool { return len(r.Findings) == 0 }

// Verify checks the index chain, every record against the index, every
// record's signature and predicate through check, the signed chain of
// each model in each environment, and that no record is unlisted.
// Records are checked in parallel.
func (l *Ledger) Verify(ctx context.Context, check CheckFunc) (*Report, error) {
	ix, err := l.readIndex()
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	bad := map[int]bool{} // index positions with a finding
	add := func(i int, kind, rel, msg string) {
		seq := 0
		if i >= 0 {
			seq = ix.entries[i].Seq
			bad[i] = true
		}
		rep.Findings = append(rep.Findings, Finding{Kind: kind, Path: rel, Seq: seq, Message: msg})
	}
	addIndex := func(i int, kind, rel, msg string) {
		add(i, kind, rel, msg)
		rep.Findings[len(rep.Findings)-1].Index = true
	}
	for _, n := range ix.bad {
		addIndex(-1, KindEdited, path.Join(Dir, IndexFile), fmt.Sprintf("line %d is not an index entry", n))
	}
	for _, ln := range ix.lines {
		rep.lineDigests = append(rep.lineDigests, digest.Bytes(ln))
	}
	if n := len(rep.lineDigests); n > 0 {
		rep.Head = rep.lineDigests[n-1]
	}

	// The index chain.
	present := map[int]bool{}
	for _, e := range ix.entries {
		present[e.Seq] = true
	}
	lastSeq := 0
	for i, e := range ix.entries {
		want := ""
		if i > 0 {
			want = digest.Bytes(ix.lines[i-1])
		}
		switch {
		case e.Seq > lastSeq+1:
			var missing []string
			for s := lastSeq + 1; s < e.Seq; s++ {
				if !present[s] {
					missing = append(missing, fmt.Sprint(s))
				}
			}
			if len(missing) > 0 {
				addIndex(i, KindDeleted, e.Path, fmt.Sprintf("index entries %s before it are missing", strings.Join(missing, ", ")))
			} else {
				addIndex(i, KindReordered, e.Path, fmt.Sprintf("index entry %d comes before entry %s", e.Seq, seqRange(lastSeq+1, e.Seq-1)))
			}
		case e.Seq <= lastSeq:
			addIndex(i, KindReordered, e.Path, fmt.Sprintf("index entry %d comes after entry %d", e.Seq, lastSeq))
		case e.PrevEntry != want:
			addIndex(i-1, KindEdited, ix.entries[i-1].Path, fmt.Sprintf("index entry %d changed after entry %d was appended", ix.entries[i-1].Seq, e.Seq))
		}
		if e.Seq > lastSeq {
			lastSeq = e.Seq
		}
	}

	// Records, in parallel: read, digest, check.
	type outcome struct {
		signed  Signed
		err     error
		missing bool
		record  string
		payload bool // payload digest matches the index
	}
	out := make([]outcome, len(ix.entries))
	// An interrupt stops the reading; the run's error is then ctx's.
	parallel.ForContext(ctx, len(ix.entries), runtime.GOMAXPROCS(0), func(i int) {
		out[i] = func() outcome {
			e := ix.entries[i]
			// Only read where the entry's own name says the record
			// lives: an edited path must not lead outside the ledger.
			if want, err := e.wantPath(); err != nil || want != e.Path {
				return outcome{err: fmt.Errorf("index entry names no valid record path")}
			}
			b, err := safefile.ReadFileIn(l.root, l.abs(e.Path), safefile.Record)
			if errors.Is(err, fs.ErrNotExist) {
				return outcome{missing: true}
			}
			if err != nil {
				return outcome{err: err}
			}
			o := outcome{record: digest.Bytes(b)}
			o.signed, o.err = check(ctx, e.Path, b)
			if o.record != e.Record {
				o.payload = payloadDigest(b) == e.Payload
			}
			return o
		}()
	}) // a record's failure is its outcome, not the run's
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	seen := map[string]int{}
	for i, e := range ix.entries {
		o := out[i]
		want, _ := e.wantPath()
		if j, dup := seen[e.Path]; dup {
			add(i, KindReplaced, e.Path, fmt.Sprintf("listed again as entry %d (first as entry %d)", e.Seq, ix.entries[j].Seq))
			continue
		}
		seen[e.Path] = i
		switch {
		case want != e.Path && !e.IsRelease():
			add(i, KindEdited, e.Path, fmt.Sprintf("index entry %d names the %s record %s of %s/%s but points at %s", e.Seq, e.Kind, e.Name, e.Environment, e.Model, e.Path))
		case want != e.Path:
			add(i, KindEdited, e.Path, fmt.Sprintf("index entry %d names %s/%s %s but points at %s", e.Seq, e.Environment, e.Model, e.Version, e.Path))
		case o.missing:
			add(i, KindDeleted, e.Path, fmt.Sprintf("record file is missing (index entry %d)", e.Seq))
		case o.record != e.Record && o.err == nil && o.payload:
			// The release is the one recorded; only the envelope's
			// signature list changed, such as an emptied key id or an
			// added signature.
			add(i, KindSignature, e.Path, "payload is intact but the signatures changed after recording (a key id edited or a signature added or removed)")
		case o.record != e.Record && o.err == nil:
			add(i, KindReplaced, e.Path, "record differs from the one indexed (signed by a trusted key, but not the release that was recorded)")
		case o.record != e.Record && errors.Is(o.err, ErrUntrusted):
			add(i, KindReplaced, e.Path, "record was replaced: "+o.err.Error())
		case o.record != e.Record && o.payload:
			add(i, KindSignature, e.Path, "payload is intact but the signature was swapped: "+o.err.Error())
		case o.record != e.Record:
			add(i, KindEdited, e.Path, "record was edited after signing: "+o.err.Error())
		case o.err != nil && errors.Is(o.err, ErrUntrusted):
			add(i, KindReplaced, e.Path, o.err.Error())
		case o.err != nil:
			add(i, KindInvalid, e.Path, o.err.Error())
		case o.signed.kind() != e.RecordKind():
			add(i, KindReplaced, e.Path, fmt.Sprintf("record is signed as a %s record, the index lists a %s record", o.signed.kind(), e.RecordKind()))
		case !e.IsRelease() && (o.signed.Environment != e.Environment || o.signed.Model != e.Model || o.signed.Version != e.Version || o.signed.Name != e.Name):
			add(i, KindReplaced, e.Path, fmt.Sprintf("record is the %s record %s of %s/%s %s, not %s of %s/%s %s",
				e.Kind, o.signed.Name, o.signed.Environment, o.signed.Model, o.signed.Version, e.Name, e.Environment, e.Model, e.Version))
		case e.IsRelease() && (o.signed.Environment != e.Environment || o.signed.Model != e.Model || o.signed.Version != e.Version || rev(o.signed.Revision) != rev(e.Revision)):
			add(i, KindReplaced, e.Path, fmt.Sprintf("record is the release of %s/%s %s (revision %d), not %s/%s %s (revision %d)",
				o.signed.Environment, o.signed.Model, o.signed.Version, rev(o.signed.Revision), e.Environment, e.Model, e.Version, rev(e.Revision)))
		}
	}

	// The signed chain of each kind of record of each model in each
	// environment.
	type key struct {
		kind       RecordKind
		env, model string
	}
	lastOf := map[key]int{}
	byRecord := map[string]int{}
	for i, e := range ix.entries {
		byRecord[e.Record] = i
	}
	for i, e := range ix.entries {
		k := key{e.RecordKind(), e.Environment, e.Model}
		prev, hasPrev := lastOf[k]
		lastOf[k] = i
		if bad[i] || out[i].missing || out[i].err != nil || out[i].record != e.Record {
			continue // already reported, or its predicate cannot be trusted
		}
		signedPrev := out[i].signed.Previous
		want := ""
		if hasPrev {
			want = ix.entries[prev].Record
		}
		if signedPrev == want {
			continue
		}
		j, known := byRecord[signedPrev]
		switch {
		case signedPrev == "":
			add(i, KindReordered, e.Path, fmt.Sprintf("signed as the first %s of %s in %s, but %s comes before it", e.RecordKind(), e.Model, e.Environment, ix.entries[prev].Path))
		case known && j > i:
			add(i, KindReordered, e.Path, fmt.Sprintf("signed after %s, which the ledger puts later", ix.entries[j].Path))
		case known:
			add(i, KindReordered, e.Path, fmt.Sprintf("signed after %s, but the ledger puts %s in between", ix.entries[j].Path, ix.entries[prev].Path))
		default:
			add(i, KindDeleted, e.Path, fmt.Sprintf("the %s signed as its predecessor (%s) is missing from the ledger", e.RecordKind(), signedPrev))
		}
	}

	// The signed ledger-wide chain: each record names the one the ledger
	// listed before it, so dropping a record from the middle and
	// re-linking the unsigned index is still seen.
	for i, e := range ix.entries {
		o := out[i]
		if bad[i] || o.missing || o.err != nil || o.record != e.Record || !o.signed.HasLedgerPrevious {
			continue
		}
		want := ""
		if i > 0 {
			want = ix.entries[i-1].Record
		}
		if o.signed.LedgerPrevious == want {
			continue
		}
		if j, known := byRecord[o.signed.LedgerPrevious]; known {
			add(i, KindReordered, e.Path, fmt.Sprintf("signed after %s, which the ledger puts elsewhere", ix.entries[j].Path))
		} else if o.signed.LedgerPrevious == "" {
			add(i, KindReordered, e.Path, "signed as the ledger's first record, but the ledger lists records before it")
		} else {
			add(i, KindDeleted, e.Path, fmt.Sprintf("the record signed as the ledger's previous one (%s) is missing from the ledger", o.signed.LedgerPrevious))
		}
	}

	// Records the index does not list.
	listed := map[string]bool{}
	for _, e := range ix.entries {
		listed[e.Path] = true
	}
	root := l.abs(Dir)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() && d.Name() == AsideDir {
			return filepath.SkipDir // moved aside by a repair, on purpose
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), RecordSuffix) {
			return nil
		}
		rel, err := filepath.Rel(l.root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !listed[rel] {
			add(-1, KindUnlisted, rel, "record is not in the ledger index")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	for i, e := range ix.entries {
		rep.Records = append(rep.Records, Record{Entry: e, OK: !bad[i]})
	}
	sort.SliceStable(rep.Findings, func(a, b int) bool {
		fa, fb := rep.Findings[a], rep.Findings[b]
		if (fa.Seq == 0) != (fb.Seq == 0) {
			return fb.Seq == 0
		}
		return fa.Seq < fb.Seq
	})
	return rep, nil
}

// kind is the signed kind, Release when the predicate is a release.
func (s Signed) kind() RecordKind {
	if s.Kind == "" {
		return Release
	}
	return s.Kind
}

// path is where the signed record says it lives.
func (s Signed) path() (string, error) {
	if s.kind() == Release {
		return RevisionPath(s.Environment, s.Model, s.Version, s.Revision)
	}
	return KindPath(s.Kind, s.Environment, s.Model, s.Name)
}

func seqRange(a, b int) string {
	if a == b {
		return fmt.Sprint(a)
	}
	return fmt.Sprintf("%d-%d", a, b)
}

// payloadDigest digests an envelope's decoded payload, or returns "" when
// the envelope is unreadable.
func payloadDigest(envelope []byte) string {
	var e struct {
		Payload string `json:"payload"`
	}
	if json.Unmarshal(envelope, &e) != nil {
		return ""
	}
	p, err := base64.StdEncoding.DecodeString(e.Payload)
	if err != nil {
		return ""
	}
	return digest.Bytes(p)
}
