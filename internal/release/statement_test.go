package release

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/sign"
	"github.com/slipway-ml/slipway/internal/verify"
)

// TestRecordStatement: a record that verified offers the statement
// verification decoded, approvals included (the report's history shows
// them); a record that failed offers none.
func TestRecordStatement(t *testing.T) {
	f := newFixture(t)
	in := f.input(t, f.unit(t, "staging", "credit-default"), f.unit(t, "staging", "fraud"))
	out, err := f.release(t, in, "staging", "", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	// A record whose envelope was replaced fails verification.
	for _, r := range out.Released {
		if r.Model == "credit-default" {
			f.write(t, r.Path, []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}`))
		}
	}
	rep := f.verify(t, verify.Options{})
	got := map[string]bool{}
	for _, r := range rep.Records {
		st := r.Statement()
		got[r.Model] = st != nil
		if st == nil {
			continue
		}
		p := st.Predicate
		if p.Model.Name != r.Model || p.Environment != "staging" || p.Decision != attest.DecisionPass {
			t.Errorf("%s: statement of another record: %+v", r.Path, p.Model)
		}
		want := []attest.Approval{{User: "alice", State: "APPROVED", SubmittedAt: "2026-11-23T10:00:00Z"}}
		if diff := cmp.Diff(want, p.Approvals); diff != "" {
			t.Errorf("%s: approvals (-want +got):\n%s", r.Path, diff)
		}
	}
	if diff := cmp.Diff(map[string]bool{"credit-default": false, "fraud": true}, got); diff != "" {
		t.Errorf("records offering a statement (-want +got):\n%s", diff)
	}
}

// TestRecordApproversDistinct: when GitHub told who wrote the change,
// each approval in the signed record says whether its author is distinct
// from them.
func TestRecordApproversDistinct(t *testing.T) {
	f := newFixture(t)
	in := f.input(t, f.unit(t, "staging", "fraud"))
	in.Approvals = append(in.Approvals, checkresult.Approval{User: "Bob", State: "APPROVED", SubmittedAt: "2026-11-23T11:00:00Z"})
	in.Authors = []string{"bob"}
	if _, err := f.release(t, in, "staging", "", signedAt); err != nil {
		t.Fatal(err)
	}
	rep := f.verify(t, verify.Options{})
	yes, no := true, false
	want := []attest.Approval{
		{User: "alice", State: "APPROVED", SubmittedAt: "2026-11-23T10:00:00Z", DistinctFromAuthors: &yes},
		{User: "Bob", State: "APPROVED", SubmittedAt: "2026-11-23T11:00:00Z", DistinctFromAuthors: &no},
	}
	for _, r := range rep.Records {
		st := r.Statement()
		if st == nil {
			t.Fatalf("%s: no statement", r.Path)
		}
		if diff := cmp.Diff(want, st.Predicate.Approvals); diff != "" {
			t.Errorf("%s: approvals (-want +got):\n%s", r.Path, diff)
		}
	}
}

// TestRecordAuthorsFromGitHub: the authors an approval is distinct from
// are GitHub's, never the check result's: a result edited to name no
// author does not make an author's approval count.
func TestRecordAuthorsFromGitHub(t *testing.T) {
	f := newFixture(t)
	in := f.input(t, f.unit(t, "staging", "fraud"))
	bob := checkresult.Approval{User: "bob", State: "APPROVED", SubmittedAt: "2026-11-23T11:00:00Z", ReviewID: 7, Commit: "c0ffee"}
	in.Approvals = []checkresult.Approval{bob}
	in.Authors = []string{}
	_, err := Release(context.Background(), Options{Platform: f.p, Input: in, WorkDir: filepath.Join(f.root, ".slipway"),
		Environment: "staging", Signer: f.signer, Version: "test", Now: signedAt,
		Reviews: github(checkresult.Reviews{Approvals: in.Approvals, Authors: []string{"Bob"}})})
	if err != nil {
		t.Fatal(err)
	}
	no := false
	want := []attest.Approval{{User: "bob", State: "APPROVED", SubmittedAt: "2026-11-23T11:00:00Z", DistinctFromAuthors: &no, ReviewID: 7, Commit: "c0ffee"}}
	for _, r := range f.verify(t, verify.Options{}).Records {
		if diff := cmp.Diff(want, r.Statement().Predicate.Approvals); diff != "" {
			t.Errorf("%s: approvals (-want +got):\n%s", r.Path, diff)
		}
	}
}

// TestRecordAcceptance: the signed record holds operations' acceptance:
// the approving review by a member of the model's acceptance team (login,
// review id, time, commit); an approval by a member who wrote the change,
// or a team GitHub did not list, accepts nothing.
func TestRecordAcceptance(t *testing.T) {
	olga := checkresult.Approval{User: "olga", State: "APPROVED", SubmittedAt: "2026-11-23T09:30:00Z", ReviewID: 4242, Commit: "0123abc"}
	alice := checkresult.Approval{User: "alice", State: "APPROVED", SubmittedAt: "2026-11-23T10:00:00Z", ReviewID: 4243, Commit: "0123abc"}
	tests := []struct {
		name    string
		authors []string
		teams   map[string][]string
		want    *attest.Acceptance
	}{
		{"a member approved", []string{"carol"}, map[string][]string{"payments-ops": {"Olga", "pat"}},
			&attest.Acceptance{Team: "payments-ops", User: "olga", ReviewID: 4242, SubmittedAt: "2026-11-23T09:30:00Z", Commit: "0123abc"}},
		{"the member wrote the change", []string{"olga"}, map[string][]string{"payments-ops": {"olga"}}, nil},
		{"no member approved", []string{"carol"}, map[string][]string{"payments-ops": {"pat"}}, nil},
		{"team not listed", []string{"carol"}, map[string][]string{"payments-ops": nil}, nil},
		{"authors unknown", nil, map[string][]string{"payments-ops": {"olga"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			in := f.input(t, f.unit(t, "staging", "fraud"))
			in.Approvals = []checkresult.Approval{olga, alice}
			_, err := Release(context.Background(), Options{Platform: f.p, Input: in, WorkDir: filepath.Join(f.root, ".slipway"),
				Environment: "staging", Signer: f.signer, Version: "test", Now: signedAt,
				Reviews: github(checkresult.Reviews{Approvals: in.Approvals, Authors: tt.authors, Teams: tt.teams})})
			if err != nil {
				t.Fatal(err)
			}
			recs := f.verify(t, verify.Options{}).Records
			if len(recs) == 0 {
				t.Fatal("nothing released")
			}
			for _, r := range recs {
				if diff := cmp.Diff(tt.want, r.Statement().Predicate.Acceptance); diff != "" {
					t.Errorf("%s: acceptance (-want +got):\n%s", r.Path, diff)
				}
			}
		})
	}
}

// TestWholeNewest: asked to, verification decodes the newest release of
// each model in each environment in full, as attest.Parse reads its file,
// and only those; unasked, none.
func TestWholeNewest(t *testing.T) {
	f := newFixture(t)
	if _, err := f.release(t, f.input(t, f.unit(t, "staging", "credit-default"), f.unit(t, "staging", "fraud")), "staging", "", signedAt); err != nil {
		t.Fatal(err)
	}
	// Released again after a re-plan: the first record is no longer the
	// newest.
	f.write(t, ".slipway/plans/staging/credit-default.tfplan", []byte("re-planned"))
	if _, err := f.release(t, f.input(t, f.unit(t, "staging", "credit-default")), "staging", "", signedAt.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, asked := range []bool{true, false} {
		rep := f.verify(t, verify.Options{WholeNewest: asked})
		got := map[string]bool{}
		for _, r := range rep.Records {
			if r.Statement() == nil {
				t.Fatalf("%s did not verify: %v", r.Path, r.Problems)
			}
			whole := r.Whole()
			got[r.Path] = whole != nil
			if whole == nil {
				continue
			}
			b, err := os.ReadFile(filepath.Join(f.root, r.Path))
			if err != nil {
				t.Fatal(err)
			}
			e, err := sign.ParseEnvelope(b)
			if err != nil {
				t.Fatal(err)
			}
			want, err := attest.Parse(e.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, whole); d != "" {
				t.Errorf("%s: whole statement (-attest.Parse +got):\n%s", r.Path, d)
			}
		}
		want := map[string]bool{
			"releases/staging/credit-default/2.3.0.intoto.json":    false,
			"releases/staging/credit-default/2.3.0_r2.intoto.json": asked,
			"releases/staging/fraud/4.1.2.intoto.json":             asked,
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("WholeNewest=%v: records decoded whole (-want +got):\n%s", asked, d)
		}
	}
}
