package ledger

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/sign"
)

// testRecord is a record kind's predicate as a kind would define it.
type testRecord struct {
	attest.RecordHeader
	Note string `json:"note"`
}

func recordPayload(kind RecordKind, env, model, version string, place Place) []byte {
	sub, _ := attest.NewSubject("target", testDigest)
	st, err := attest.NewRecordStatement(string(kind), []attest.Subject{sub}, testRecord{
		RecordHeader: attest.RecordHeader{Model: attest.ModelRef{Name: model, Version: version}, Environment: env, Name: place.Name,
			RecordedAt: testNow.Format(time.RFC3339), Previous: place.Previous, LedgerPrevious: place.LedgerPrevious},
		Note: "rehearsed",
	})
	if err != nil {
		panic(err)
	}
	b, _ := st.Marshal()
	return b
}

func (f *fixture) record(t testing.TB, kind RecordKind, env, model, version string, at time.Time) Entry {
	t.Helper()
	e, err := f.l.AppendRecord(context.Background(), kind, env, model, version, at, func(ctx context.Context, place Place) ([]byte, []byte, error) {
		p := recordPayload(kind, env, model, version, place)
		e, err := f.signer.Sign(ctx, p)
		return e, p, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// checkAny reads release and other records, as verify.Ledger's checker
// does.
func (f *fixture) checkAny(ctx context.Context, rel string, envelope []byte) (Signed, error) {
	s, err := f.check(ctx, rel, envelope)
	if err == nil || !errors.Is(err, attest.ErrNotRelease) {
		return s, err
	}
	e, _ := sign.ParseEnvelope(envelope)
	rec, rerr := attest.ParseRecord(e.Payload)
	if rerr != nil {
		return Signed{}, err
	}
	h := rec.Header
	return Signed{Kind: RecordKind(rec.Kind), Name: h.Name, Environment: h.Environment, Model: h.Model.Name, Version: h.Model.Version,
		Previous: h.Previous, LedgerPrevious: h.LedgerPrevious, HasLedgerPrevious: true}, nil
}

func TestAppendRecordKinds(t *testing.T) {
	f := newFixture(t)
	r1 := f.release(t, "staging", "m", "1.0.0")
	r2 := f.release(t, "staging", "m", "1.1.0")
	rb := f.record(t, Rollback, "staging", "m", "1.0.0", testNow)
	mon := f.record(t, Monitoring, "staging", "m", "1.0.0", testNow)
	rb2 := f.record(t, Rollback, "staging", "m", "1.0.0", testNow) // same second: the seq keeps names apart
	r3 := f.release(t, "staging", "m", "1.1.0")
	got := []Entry{rb, mon, rb2, r3}
	for i := range got {
		got[i].Record, got[i].Payload, got[i].PrevEntry, got[i].RecordedAt = "", "", "", ""
	}
	want := []Entry{
		{Seq: 3, Kind: Rollback, Name: "20261123T120000Z-3", Environment: "staging", Model: "m", Version: "1.0.0", Path: "releases/staging/m/rollback/20261123T120000Z-3.intoto.json"},
		{Seq: 4, Kind: Monitoring, Name: "20261123T120000Z-4", Environment: "staging", Model: "m", Version: "1.0.0", Path: "releases/staging/m/monitoring/20261123T120000Z-4.intoto.json"},
		{Seq: 5, Kind: Rollback, Name: "20261123T120000Z-5", Environment: "staging", Model: "m", Version: "1.0.0", Path: "releases/staging/m/rollback/20261123T120000Z-5.intoto.json", Previous: rb.Record},
		// Each kind chains its own records: the release after a rollback
		// names the release before it, and is 1.1.0's second revision.
		{Seq: 6, Environment: "staging", Model: "m", Version: "1.1.0", Revision: 2, Path: "releases/staging/m/1.1.0_r2.intoto.json", Previous: r2.Record},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("entries (-want +got):\n%s", d)
	}
	if r1.Kind != "" || strings.Contains(f.indexLines(t)[0], `"kind"`) {
		t.Fatalf("a release's index line carries a kind: %s", f.indexLines(t)[0])
	}
	rep, err := f.l.Verify(context.Background(), f.checkAny)
	if err != nil || !rep.OK() || len(rep.Records) != 6 {
		t.Fatalf("verify: %v %v (%d records)", err, rep.Findings, len(rep.Records))
	}
	if _, err := f.l.AppendRecord(context.Background(), "audit", "staging", "m", "1.0.0", testNow, nil); err == nil {
		t.Fatal("AppendRecord accepted an unknown kind")
	}
	if _, err := f.l.AppendRecord(context.Background(), Release, "staging", "m", "1.0.0", testNow, nil); err == nil {
		t.Fatal("AppendRecord accepted a release")
	}
}

func TestRecordKindTamper(t *testing.T) {
	const rbPath = "releases/staging/m/rollback/20261123T120000Z-2.intoto.json"
	tests := []struct {
		name   string
		tamper func(t *testing.T, f *fixture)
		want   []string
	}{
		{
			name: "rollback record deleted and index relinked",
			tamper: func(t *testing.T, f *fixture) {
				es, _ := f.l.Entries()
				os.Remove(filepath.Join(f.root, rbPath))
				f.rewriteIndex(t, []Entry{es[0], es[2]})
			},
			want: []string{"deleted: releases/staging/m/1.1.0.intoto.json"},
		},
		{
			name: "rollback entry renamed in the index",
			tamper: func(t *testing.T, f *fixture) {
				lines := f.indexLines(t)
				lines[1] = strings.ReplaceAll(lines[1], `"name":"20261123T120000Z-2"`, `"name":"20261123T120000Z-9"`)
				f.writeIndexLines(t, lines)
			},
			want: []string{"edited: " + rbPath},
		},
		{
			name: "index entry's kind dropped: the record is signed as a rollback",
			tamper: func(t *testing.T, f *fixture) {
				es, _ := f.l.Entries()
				// Move the record to a release path so the path rule holds.
				rel, _ := RecordPath("staging", "m", "1.0.0x")
				os.Rename(filepath.Join(f.root, rbPath), filepath.Join(f.root, rel))
				es[1].Kind, es[1].Name, es[1].Version, es[1].Path = "", "", "1.0.0x", rel
				f.rewriteIndex(t, es)
			},
			want: []string{"replaced: releases/staging/m/1.0.0x.intoto.json"},
		},
		{
			name: "rollback record edited after signing",
			tamper: func(t *testing.T, f *fixture) {
				editEnvelope(t, filepath.Join(f.root, rbPath), func(m map[string]any) { m["payload"] = "e30=" })
			},
			want: []string{"edited: " + rbPath},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.release(t, "staging", "m", "1.0.0")
			f.record(t, Rollback, "staging", "m", "1.0.0", testNow)
			f.release(t, "staging", "m", "1.1.0")
			tt.tamper(t, f)
			rep, err := f.l.Verify(context.Background(), f.checkAny)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, fd := range rep.Findings {
				got = append(got, fd.Kind+": "+fd.Path)
			}
			for _, w := range tt.want {
				found := false
				for _, g := range got {
					found = found || g == w
				}
				if !found {
					t.Errorf("no finding %q in %v", w, fmt.Sprint(rep.Findings))
				}
			}
		})
	}
}

func TestRepairAdoptsRecordKind(t *testing.T) {
	f := newFixture(t)
	a := f.release(t, "staging", "m", "1.0.0")
	e := f.record(t, Rollback, "staging", "m", "1.0.0", testNow)
	// The index line is lost, as a crash after the record's write leaves it.
	lines := f.indexLines(t)
	f.writeIndexLines(t, lines[:1])
	got, err := f.l.Repair(context.Background(), f.checkAny, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Adopted || got[0].Path != e.Path {
		t.Fatalf("repairs: %+v", got)
	}
	es, _ := f.l.Entries()
	if es[1].Kind != Rollback || es[1].Name != e.Name || es[1].Previous != "" || a.Record == "" {
		t.Fatalf("adopted entry: %+v", es[1])
	}
	if rep, err := f.l.Verify(context.Background(), f.checkAny); err != nil || !rep.OK() {
		t.Fatalf("verify after repair: %v %v", err, rep.Findings)
	}
}
