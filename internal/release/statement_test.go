package release

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/checkresult"
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
	rep := f.verify(t, VerifyOptions{})
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

// TestRecordApproversDistinct: when the check knew who wrote the change,
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
	rep := f.verify(t, VerifyOptions{})
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
