package ledger

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/atomicfile"
	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/sign"
)

var (
	testNow    = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	testDigest = "sha256:" + strings.Repeat("a", 64)
)

type fixture struct {
	root    string
	l       *Ledger
	signer  *sign.Signer
	other   *sign.Signer
	trusted []*sign.PublicKey
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{root: t.TempDir()}
	f.l = Open(f.root)
	// Key generation and decryption run scrypt: do them once per binary.
	keysOnce.Do(func() {
		kp, err := sign.GenerateKeyPair([]byte("pw"))
		if err != nil {
			panic(err)
		}
		if testSigner, err = sign.LoadPrivateKey(kp.Private, []byte("pw")); err != nil {
			panic(err)
		}
		if testPub, err = sign.ParsePublicKey("release", kp.Public); err != nil {
			panic(err)
		}
		okp, _ := sign.GenerateKeyPair([]byte("pw"))
		testOther, _ = sign.LoadPrivateKey(okp.Private, []byte("pw"))
	})
	f.signer, f.other, f.trusted = testSigner, testOther, []*sign.PublicKey{testPub}
	return f
}

var (
	keysOnce              sync.Once
	testSigner, testOther *sign.Signer
	testPub               *sign.PublicKey
)

func statement(env, model, version, previous string, revision int, ledgerPrev ...string) []byte {
	var lp *string
	if len(ledgerPrev) > 0 {
		lp = &ledgerPrev[0]
	}
	if revision == 1 {
		revision = 0
	}
	st, err := attest.NewStatement(attest.Release{
		Model:          attest.ModelRef{Name: model, Version: version},
		Revision:       revision,
		Environment:    env,
		Decision:       attest.DecisionPass,
		Artifact:       attest.Artifact{URI: "s3://m/" + model + ".onnx", Digest: testDigest},
		Previous:       previous,
		LedgerPrevious: lp,
	})
	if err != nil {
		panic(err)
	}
	b, _ := st.Marshal()
	return b
}

func (f *fixture) build(s *sign.Signer, env, model, version string) BuildFunc {
	return func(ctx context.Context, place Place) ([]byte, []byte, error) {
		p := statement(env, model, version, place.Previous, place.Revision, place.LedgerPrevious)
		e, err := s.Sign(ctx, p)
		return e, p, err
	}
}

func (f *fixture) release(t testing.TB, env, model, version string) Entry {
	t.Helper()
	e, err := f.l.Append(context.Background(), env, model, version, testNow, f.build(f.signer, env, model, version))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (f *fixture) check(ctx context.Context, _ string, envelope []byte) (Signed, error) {
	e, err := sign.ParseEnvelope(envelope)
	if err != nil {
		return Signed{}, err
	}
	if _, err := sign.Verify(ctx, e, f.trusted); err != nil {
		var verr *sign.VerifyError
		if errors.As(err, &verr) && verr.Untrusted {
			return Signed{}, fmt.Errorf("%w (%s)", ErrUntrusted, strings.Join(verr.KeyIDs, ", "))
		}
		return Signed{}, err
	}
	st, err := attest.Parse(e.Payload)
	if err != nil {
		return Signed{}, err
	}
	p := st.Predicate
	s := Signed{Environment: p.Environment, Model: p.Model.Name, Version: p.Model.Version, Revision: p.Revision, Previous: p.Previous}
	if p.LedgerPrevious != nil {
		s.LedgerPrevious, s.HasLedgerPrevious = *p.LedgerPrevious, true
	}
	return s, nil
}

func TestAppendAndVerify(t *testing.T) {
	f := newFixture(t)
	a := f.release(t, "staging", "m", "1.0.0")
	f.release(t, "staging", "other", "2.0.0")
	b := f.release(t, "staging", "m", "1.1.0")
	if a.Previous != "" || b.Previous != a.Record {
		t.Fatalf("previous: a=%q b=%q, want b to name %q", a.Previous, b.Previous, a.Record)
	}
	if b.Seq != 3 || b.Path != "releases/staging/m/1.1.0.intoto.json" {
		t.Fatalf("entry %+v", b)
	}
	rep, err := f.l.Verify(context.Background(), f.check)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Records) != 3 {
		t.Fatalf("findings %v, records %d", rep.Findings, len(rep.Records))
	}
	// Releasing 1.1.0 again makes a second revision, never an overwrite.
	again := f.release(t, "staging", "m", "1.1.0")
	if again.Revision != 2 || again.Path != "releases/staging/m/1.1.0_r2.intoto.json" || again.Previous != b.Record {
		t.Fatalf("second release of 1.1.0: %+v", again)
	}
	if rep, _ := f.l.Verify(context.Background(), f.check); !rep.OK() {
		t.Fatalf("findings after a revision: %v", rep.Findings)
	}
	// A record file the index does not know blocks its path.
	os.WriteFile(filepath.Join(f.root, "releases/staging/m/1.1.0_r3.intoto.json"), []byte("{}"), 0o644)
	_, err = f.l.Append(context.Background(), "staging", "m", "1.1.0", testNow, f.build(f.signer, "staging", "m", "1.1.0"))
	if !errors.Is(err, ErrExists) {
		t.Fatalf("release onto an unlisted file: got %v, want ErrExists", err)
	}
	if _, err := RecordPath("staging", "../x", "1"); err == nil {
		t.Fatal("RecordPath accepted a path escape")
	}
}

// rewriteIndex replaces the index with entries, re-chained and
// renumbered, as an attacker without the key could.
func (f *fixture) rewriteIndex(t *testing.T, entries []Entry) {
	var buf bytes.Buffer
	prev := ""
	for i, e := range entries {
		e.Seq = i + 1
		e.PrevEntry = prev
		line, _ := json.Marshal(e)
		prev = digest.Bytes(line)
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if err := os.WriteFile(filepath.Join(f.root, Dir, IndexFile), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) indexLines(t *testing.T) []string {
	b, err := os.ReadFile(filepath.Join(f.root, Dir, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func (f *fixture) writeIndexLines(t *testing.T, lines []string) {
	s := strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(f.root, Dir, IndexFile), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func editEnvelope(t *testing.T, file string, edit func(m map[string]any)) {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, _ = json.Marshal(m)
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestTamper(t *testing.T) {
	const mid = "releases/staging/m/1.1.0.intoto.json"
	tests := []struct {
		name   string
		tamper func(t *testing.T, f *fixture, entries []Entry)
		want   []string // "kind path"
	}{
		{"edited predicate byte", func(t *testing.T, f *fixture, _ []Entry) {
			editEnvelope(t, filepath.Join(f.root, mid), func(m map[string]any) {
				p, _ := base64.StdEncoding.DecodeString(m["payload"].(string))
				p = bytes.Replace(p, []byte(`"1.1.0"`), []byte(`"1.1.1"`), 1)
				m["payload"] = base64.StdEncoding.EncodeToString(p)
			})
		}, []string{"edited " + mid}},
		{"swapped signature", func(t *testing.T, f *fixture, _ []Entry) {
			var other map[string]any
			b, _ := os.ReadFile(filepath.Join(f.root, "releases/staging/m/1.0.0.intoto.json"))
			_ = json.Unmarshal(b, &other)
			editEnvelope(t, filepath.Join(f.root, mid), func(m map[string]any) { m["signatures"] = other["signatures"] })
		}, []string{"signature " + mid}},
		{"keyid emptied", func(t *testing.T, f *fixture, _ []Entry) {
			editEnvelope(t, filepath.Join(f.root, mid), func(m map[string]any) {
				m["signatures"].([]any)[0].(map[string]any)["keyid"] = ""
			})
		}, []string{"signature " + mid}},
		{"extra signature", func(t *testing.T, f *fixture, _ []Entry) {
			editEnvelope(t, filepath.Join(f.root, mid), func(m map[string]any) {
				sigs := m["signatures"].([]any)
				m["signatures"] = append(sigs, map[string]any{"keyid": "extra", "sig": "AAAA"})
			})
		}, []string{"signature " + mid}},
		{"record file deleted", func(t *testing.T, f *fixture, _ []Entry) {
			os.Remove(filepath.Join(f.root, mid))
		}, []string{"deleted " + mid}},
		{"record and index entry deleted", func(t *testing.T, f *fixture, _ []Entry) {
			os.Remove(filepath.Join(f.root, mid))
			lines := f.indexLines(t)
			f.writeIndexLines(t, append(lines[:1:1], lines[2:]...))
		}, []string{"deleted releases/staging/m/1.2.0.intoto.json"}},
		{"record deleted and index rebuilt", func(t *testing.T, f *fixture, entries []Entry) {
			os.Remove(filepath.Join(f.root, mid))
			f.rewriteIndex(t, append(entries[:1:1], entries[2:]...))
		}, []string{"deleted releases/staging/m/1.2.0.intoto.json"}},
		{"replaced by untrusted key", func(t *testing.T, f *fixture, entries []Entry) {
			p := statement("staging", "m", "1.1.0", entries[0].Record, 0, entries[0].Record)
			e, _ := f.other.Sign(context.Background(), p)
			os.WriteFile(filepath.Join(f.root, mid), e, 0o644)
		}, []string{"replaced " + mid}},
		{"index reordered", func(t *testing.T, f *fixture, _ []Entry) {
			lines := f.indexLines(t)
			lines[1], lines[2] = lines[2], lines[1]
			f.writeIndexLines(t, lines)
		}, []string{"reordered " + mid, "reordered releases/staging/m/1.2.0.intoto.json"}},
		{"index reordered and rebuilt", func(t *testing.T, f *fixture, entries []Entry) {
			entries[1], entries[2] = entries[2], entries[1]
			f.rewriteIndex(t, entries)
		}, []string{"reordered releases/staging/m/1.2.0.intoto.json", "reordered " + mid}},
		{"index entry edited", func(t *testing.T, f *fixture, _ []Entry) {
			lines := f.indexLines(t)
			lines[1] = strings.Replace(lines[1], testNow.Format(time.RFC3339), "2020-01-01T00:00:00Z", 1)
			f.writeIndexLines(t, lines)
		}, []string{"edited " + mid}},
		{"index path leads outside the ledger", func(t *testing.T, f *fixture, _ []Entry) {
			lines := f.indexLines(t)
			lines[1] = strings.Replace(lines[1], mid, "releases/../../outside.intoto.json", 1)
			f.writeIndexLines(t, lines)
		}, []string{"edited releases/../../outside.intoto.json", "edited releases/../../outside.intoto.json", "unlisted " + mid}},
		{"unlisted record", func(t *testing.T, f *fixture, _ []Entry) {
			b, _ := os.ReadFile(filepath.Join(f.root, mid))
			os.WriteFile(filepath.Join(f.root, "releases/staging/m/9.9.9.intoto.json"), b, 0o644)
		}, []string{"unlisted releases/staging/m/9.9.9.intoto.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var entries []Entry
			for _, v := range []string{"1.0.0", "1.1.0", "1.2.0"} {
				entries = append(entries, f.release(t, "staging", "m", v))
			}
			tt.tamper(t, f, entries)
			rep, err := f.l.Verify(context.Background(), f.check)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range rep.Findings {
				got = append(got, x.Kind+" "+x.Path)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s\n%v", d, rep.Findings)
			}
		})
	}
}

func TestAppendRefusesDamagedLedger(t *testing.T) {
	f := newFixture(t)
	f.release(t, "staging", "m", "1.0.0")
	f.release(t, "staging", "m", "1.1.0")
	lines := f.indexLines(t)
	f.writeIndexLines(t, lines[1:])
	_, err := f.l.Append(context.Background(), "staging", "m", "1.2.0", testNow, f.build(f.signer, "staging", "m", "1.2.0"))
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("got %v, want ErrDamaged", err)
	}
}

// writeLedger writes n signed records straight to disk; appending them one
// by one would rewrite the index n times.
func writeLedger(b testing.TB, f *fixture, n int) {
	ctx := context.Background()
	var buf bytes.Buffer
	prevLine := ""
	prevRec := map[string]string{}
	for i := 0; i < n; i++ {
		env := []string{"dev", "staging", "prod"}[i%3]
		model := fmt.Sprintf("model-%d", (i/3)%20)
		version := fmt.Sprintf("1.%d.0", i)
		k := env + "/" + model
		p := statement(env, model, version, prevRec[k], 0)
		envl, err := f.signer.Sign(ctx, p)
		if err != nil {
			b.Fatal(err)
		}
		rel, _ := RecordPath(env, model, version)
		full := filepath.Join(f.root, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, envl, 0o644); err != nil {
			b.Fatal(err)
		}
		e := Entry{Seq: i + 1, Environment: env, Model: model, Version: version, Path: rel, Record: digest.Bytes(envl),
			Payload: digest.Bytes(p), Previous: prevRec[k], PrevEntry: prevLine, RecordedAt: testNow.Format(time.RFC3339)}
		line, _ := json.Marshal(e)
		prevLine = digest.Bytes(line)
		prevRec[k] = e.Record
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if err := os.WriteFile(filepath.Join(f.root, path.Join(Dir, IndexFile)), buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkVerify10k verifies a ledger of 10,000 signed release records:
// index chain, record digests, signatures, predicates and signed chains.
func BenchmarkVerify10k(b *testing.B) {
	f := newFixture(b)
	writeLedger(b, f, 10000)
	ctx := context.Background()
	for b.Loop() {
		rep, err := f.l.Verify(ctx, f.check)
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK() {
			b.Fatalf("findings: %v", rep.Findings[:1])
		}
	}
}

// TestAppendRefusesSymlinkedLedgerDir: a committed releases/ symlink must
// not carry the records and the index out of the repository.
func TestAppendRefusesSymlinkedLedgerDir(t *testing.T) {
	f := newFixture(t)
	elsewhere := t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(f.root, Dir)); err != nil {
		t.Fatal(err)
	}
	_, err := f.l.Append(context.Background(), "staging", "m", "1.0.0", testNow, f.build(f.signer, "staging", "m", "1.0.0"))
	if !errors.Is(err, atomicfile.ErrSymlinkedDir) {
		t.Fatalf("got %v, want ErrSymlinkedDir", err)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("wrote %d file(s) outside the repository", len(entries))
	}
}

// Dropping another model's record from the middle and re-linking the
// index leaves the next record's signed ledger link dangling.
func TestDeleteOtherModelRelinked(t *testing.T) {
	f := newFixture(t)
	a := f.release(t, "staging", "m", "1.0.0")
	b := f.release(t, "production", "other", "2.0.0")
	c := f.release(t, "staging", "m", "1.1.0")
	os.Remove(filepath.Join(f.root, b.Path))
	f.rewriteIndex(t, []Entry{a, c})
	rep, err := f.l.Verify(context.Background(), f.check)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range rep.Findings {
		got = append(got, x.Kind+" "+x.Path)
	}
	if d := cmp.Diff([]string{"deleted " + c.Path}, got); d != "" {
		t.Errorf("findings (-want +got):\n%s\n%v", d, rep.Findings)
	}
}

// A head pinned outside the repository catches what the index alone
// cannot: a dropped tail, a rewritten last line, a deleted ledger.
func TestCheckHead(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, f *fixture, entries []Entry)
		want   string // substring of the finding; "" for none
	}{
		{"intact", func(*testing.T, *fixture, []Entry) {}, ""},
		{"grown since", func(t *testing.T, f *fixture, _ []Entry) { f.release(t, "staging", "m", "1.3.0") }, ""},
		{"tail dropped", func(t *testing.T, f *fixture, entries []Entry) {
			os.Remove(filepath.Join(f.root, entries[2].Path))
			f.writeIndexLines(t, f.indexLines(t)[:2])
		}, "is not in the index (now 2 entries"},
		{"last line edited", func(t *testing.T, f *fixture, _ []Entry) {
			lines := f.indexLines(t)
			lines[2] = strings.Replace(lines[2], testNow.Format(time.RFC3339), "2020-01-01T00:00:00Z", 1)
			f.writeIndexLines(t, lines)
		}, "is not in the index"},
		{"ledger deleted", func(t *testing.T, f *fixture, _ []Entry) {
			os.RemoveAll(filepath.Join(f.root, Dir))
		}, "the ledger is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var entries []Entry
			for _, v := range []string{"1.0.0", "1.1.0", "1.2.0"} {
				entries = append(entries, f.release(t, "staging", "m", v))
			}
			pinned, err := f.l.Verify(context.Background(), f.check)
			if err != nil {
				t.Fatal(err)
			}
			tt.tamper(t, f, entries)
			rep, err := f.l.Verify(context.Background(), f.check)
			if err != nil {
				t.Fatal(err)
			}
			got := rep.CheckHead(pinned.Head)
			switch {
			case tt.want == "" && got != nil:
				t.Fatalf("unexpected finding %v", got)
			case tt.want != "" && (got == nil || !strings.Contains(got.Message, tt.want)):
				t.Fatalf("finding %v, want one saying %q", got, tt.want)
			}
		})
	}
}

// A crash between writing a record and its index line leaves an unlisted
// record: Repair adopts it when it is the ledger's next record and moves
// any other aside, and the next release goes through.
func TestRepairUnlisted(t *testing.T) {
	f := newFixture(t)
	a := f.release(t, "staging", "m", "1.0.0")
	sign := func(version, prev, ledgerPrev string) string {
		rel, _ := RecordPath("staging", "m", version)
		p := statement("staging", "m", version, prev, 0, ledgerPrev)
		e, err := f.signer.Sign(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		full := filepath.Join(f.root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, e, 0o644); err != nil {
			t.Fatal(err)
		}
		return rel
	}
	crashed := sign("1.1.0", a.Record, a.Record) // the next record, index line lost
	stray := sign("0.9.0", "", "")               // signed as the first, but the ledger has one
	if _, err := f.l.Append(context.Background(), "staging", "m", "1.1.0", testNow, f.build(f.signer, "staging", "m", "1.1.0")); !errors.Is(err, ErrExists) {
		t.Fatalf("append over an unlisted record: %v", err)
	}
	got, err := f.l.Repair(context.Background(), f.check, testNow)
	if err != nil {
		t.Fatal(err)
	}
	want := []Repair{
		{Path: crashed, Adopted: true, Seq: 2, Reason: "its signature verifies and it is signed as the ledger's next record"},
		{Path: stray, MovedTo: "releases/.unlisted/staging/m/0.9.0.intoto.json", Reason: "it is signed after another record than the ledger's last one"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("repairs (-want +got):\n%s", d)
	}
	rep, err := f.l.Verify(context.Background(), f.check)
	if err != nil || !rep.OK() {
		t.Fatalf("verify after repair: %v %+v", err, rep.Findings)
	}
	e := f.release(t, "staging", "m", "1.2.0")
	if e.Seq != 3 || e.Previous != rep.Records[1].Record {
		t.Fatalf("release after repair: %+v", e)
	}
}
