package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/internal/atomicfile"
	"github.com/slipway-ml/slipway/internal/digest"
)

// AsideDir holds records a repair moved out of the ledger, under their
// ledger path; nothing reads it, so they stay for a person to inspect.
const AsideDir = ".unlisted"

// Repair is what Repair did with one record the index did not list.
type Repair struct {
	Path string `json:"path"`
	// Adopted is true when the record was added to the index; otherwise
	// it was moved to MovedTo.
	Adopted bool   `json:"adopted"`
	MovedTo string `json:"movedTo,omitempty"`
	Reason  string `json:"reason"`
	Seq     int    `json:"seq,omitempty"`
}

// Repair resolves records the index does not list, which a crash (or a
// full disk) between writing a record and its index line leaves behind.
// A record whose signature check passes and whose signed place is exactly
// the next one (the ledger's last record as ledgerPrevious, the model's
// last record as previous, the next revision) is adopted: its index line
// is appended. Any other is moved under releases/.unlisted/ with the
// reason. A damaged index is left alone: repair does not guess.
func (l *Ledger) Repair(ctx context.Context, check CheckFunc, now time.Time) ([]Repair, error) {
	unlock, err := l.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	return l.repairLocked(ctx, check, now)
}

func (l *Ledger) repairLocked(ctx context.Context, check CheckFunc, now time.Time) ([]Repair, error) {
	ix, err := l.readIndex()
	if err != nil {
		return nil, err
	}
	if err := ix.chainProblem(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	unlisted, err := l.unlisted(ix)
	if err != nil || len(unlisted) == 0 {
		return nil, err
	}
	type candidate struct {
		rel      string
		envelope []byte
		signed   Signed
		err      error
	}
	var cands []*candidate
	for _, rel := range unlisted {
		b, err := os.ReadFile(l.abs(rel))
		if err != nil {
			return nil, err
		}
		c := &candidate{rel: rel, envelope: b}
		c.signed, c.err = check(ctx, rel, b)
		cands = append(cands, c)
	}
	var out []Repair
	// Adopt in chain order: each adoption makes the next record the tail.
	for adopted := true; adopted; {
		adopted = false
		for i, c := range cands {
			if c == nil || c.err != nil || !c.signed.HasLedgerPrevious {
				continue
			}
			if reason := ix.nextProblem(c.rel, c.signed); reason != "" {
				continue
			}
			e, line, err := ix.entryFor(c.rel, c.envelope, c.signed, now)
			if err != nil {
				return out, err
			}
			if err := l.writeIndex(ix, line); err != nil {
				return out, err
			}
			ix.entries = append(ix.entries, e)
			ix.lines = append(ix.lines, line)
			out = append(out, Repair{Path: c.rel, Adopted: true, Seq: e.Seq, Reason: "its signature verifies and it is signed as the ledger's next record"})
			cands[i], adopted = nil, true
		}
	}
	for _, c := range cands {
		if c == nil {
			continue
		}
		reason := ""
		switch {
		case c.err != nil:
			reason = "it does not verify: " + c.err.Error()
		case !c.signed.HasLedgerPrevious:
			reason = "it names no ledger predecessor, so its place cannot be proven"
		default:
			reason = ix.nextProblem(c.rel, c.signed)
		}
		to := path.Join(Dir, AsideDir, strings.TrimPrefix(c.rel, Dir+"/"))
		if err := os.MkdirAll(filepath.Dir(l.abs(to)), 0o755); err != nil {
			return out, err
		}
		if _, err := os.Lstat(l.abs(to)); err == nil {
			to = fmt.Sprintf("%s.%d", to, now.Unix())
		}
		if err := os.Rename(l.abs(c.rel), l.abs(to)); err != nil {
			return out, fmt.Errorf("move %s aside: %w", c.rel, err)
		}
		out = append(out, Repair{Path: c.rel, MovedTo: to, Reason: reason})
	}
	return out, nil
}

// unlisted returns the record files under Dir the index does not list,
// outside AsideDir, sorted.
func (l *Ledger) unlisted(ix *index) ([]string, error) {
	listed := map[string]bool{}
	for _, e := range ix.entries {
		listed[e.Path] = true
	}
	var out []string
	err := filepath.WalkDir(l.abs(Dir), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() && d.Name() == AsideDir {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() || !strings.HasSuffix(d.Name(), RecordSuffix) {
			return nil
		}
		rel, err := filepath.Rel(l.root, p)
		if err != nil {
			return err
		}
		if rel = filepath.ToSlash(rel); !listed[rel] {
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// nextProblem says why a signed record is not the ledger's next record,
// or "" when it is.
func (ix *index) nextProblem(rel string, s Signed) string {
	want, err := s.path()
	if err != nil || want != rel {
		if s.kind() != Release {
			return fmt.Sprintf("it is signed as the %s record %s of %s/%s, which does not live at %s", s.Kind, s.Name, s.Environment, s.Model, rel)
		}
		return fmt.Sprintf("it is signed as %s/%s %s (revision %d), which does not live at %s", s.Environment, s.Model, s.Version, rev(s.Revision), rel)
	}
	tail := ""
	if n := len(ix.entries); n > 0 {
		tail = ix.entries[n-1].Record
	}
	if s.LedgerPrevious != tail {
		return "it is signed after another record than the ledger's last one"
	}
	last := ix.last(s.kind(), s.Environment, s.Model)
	if s.Previous != last.Record {
		return fmt.Sprintf("it is signed after another %s of %s in %s than the ledger's last one", s.kind(), s.Model, s.Environment)
	}
	if s.kind() != Release {
		return ""
	}
	next := 1
	for _, e := range ix.entries {
		if e.IsRelease() && e.Environment == s.Environment && e.Model == s.Model && e.Version == s.Version && rev(e.Revision) >= next {
			next = rev(e.Revision) + 1
		}
	}
	if rev(s.Revision) != next {
		return fmt.Sprintf("it is signed as revision %d, the ledger's next is %d", rev(s.Revision), next)
	}
	return ""
}

// entryFor makes the index entry of an adopted record.
func (ix *index) entryFor(rel string, envelope []byte, s Signed, now time.Time) (Entry, []byte, error) {
	e := Entry{
		Seq: len(ix.entries) + 1, Environment: s.Environment, Model: s.Model, Version: s.Version,
		Path: rel, Record: digest.Bytes(envelope), Payload: payloadDigest(envelope), Previous: s.Previous,
		RecordedAt: now.UTC().Format(time.RFC3339),
	}
	if s.kind() != Release {
		e.Kind, e.Name = s.Kind, s.Name
	} else if rev(s.Revision) > 1 {
		e.Revision = s.Revision
	}
	if n := len(ix.lines); n > 0 {
		e.PrevEntry = digest.Bytes(ix.lines[n-1])
	}
	line, err := json.Marshal(e)
	return e, line, err
}

// writeIndex rewrites the index with line appended.
func (l *Ledger) writeIndex(ix *index, line []byte) error {
	var buf []byte
	for _, ln := range ix.lines {
		buf = append(buf, ln...)
		buf = append(buf, '\n')
	}
	buf = append(buf, line...)
	buf = append(buf, '\n')
	if err := atomicfile.WriteFileIn(l.root, l.abs(path.Join(Dir, IndexFile)), buf, 0o644); err != nil {
		return fmt.Errorf("append to ledger index: %w", err)
	}
	return nil
}
