package attest

import (
	"fmt"
	"strings"
	"testing"
)

// benchStatement is a release statement shaped like the portfolio
// benchmark's (internal/report): 73 results carrying 280 controls, a
// resolved spec of 8 KB; about 31 KB of JSON, most of it the controls.
func benchStatement(b *testing.B) []byte {
	b.Helper()
	auc := 0.93
	r := Release{Model: ModelRef{Name: "m", Version: "1.0.0"}, Environment: "staging", Decision: DecisionPass, Verdict: "pass",
		Artifact: Artifact{URI: "s3://models/m/model.onnx", Digest: artDigest},
		Spec:     Spec{Platform: "p", Digest: planDigest, Model: []byte(`{"name":"m","notes":"` + strings.Repeat("x", 8000) + `"}`)},
		Stacks:   []Stack{{ID: "staging/m", PlanFile: "p.tfplan", PlanSHA256: planDigest, Changes: Changes{Create: 8}}},
		Evidence: &Evidence{Path: "e.json", SHA256: planDigest, Inputs: []Input{{Path: "p.csv", SHA256: planDigest}}, Headline: map[string]*float64{"roc_auc": &auc}},
		Waivers:  []Waiver{}, Approvals: []Approval{{User: "alice", State: "APPROVED"}}, ReleasedAt: "2026-11-23T12:00:00Z"}
	for i := range 73 {
		res := Result{Rule: fmt.Sprintf("rule.number_%d", i), Severity: "deny", Outcome: "pass", Message: strings.Repeat("m", 120)}
		for j := range 3 + i%3 {
			res.Controls = append(res.Controls, Control{Framework: "NIST AI RMF", ID: fmt.Sprintf("MEASURE 2.%d", j)})
		}
		r.Results = append(r.Results, res)
	}
	st, err := NewStatement(r)
	if err != nil {
		b.Fatal(err)
	}
	p, err := st.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkParse is the decoding of one signed statement, as verification
// (ParseSummary) and a dossier's reference release (Parse) decode it.
func BenchmarkParse(b *testing.B) {
	p := benchStatement(b)
	for _, tc := range []struct {
		name  string
		parse func([]byte) (*Statement, error)
	}{{"summary", ParseSummary}, {"whole", Parse}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(p)))
			for b.Loop() {
				if _, err := tc.parse(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
