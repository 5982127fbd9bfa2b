package check

import (
	"bytes"
	"encoding/json"

	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/terraform"
)

// Result is what a check produced: the check result document
// (internal/checkresult) and the policy catalogue it judged with.
type Result struct {
	checkresult.Result

	// Rules is the policy catalogue the check judged with.
	Rules []policy.Rule `json:"-"`
}

// The document's parts, as the check builds them.
type (
	Unit        = checkresult.Unit
	EvidenceRef = checkresult.EvidenceRef
	WaiverState = checkresult.WaiverState
	Counts      = checkresult.Counts
)

// record records the engine's results in the document.
func record(rs []policy.Result) []checkresult.Finding {
	out := make([]checkresult.Finding, len(rs))
	for i, r := range rs {
		out[i] = checkresult.Finding{Rule: r.Rule, Severity: r.Severity, Outcome: r.Outcome, Message: r.Message,
			Model: r.Model, Environment: r.Environment, Pos: r.Pos, Field: r.Field}
		if r.Controls != nil {
			out[i].Controls = make([]checkresult.Control, len(r.Controls))
		}
		for j, c := range r.Controls {
			out[i].Controls[j] = checkresult.Control(c)
		}
		if w := r.Waiver; w != nil {
			out[i].Waiver = &checkresult.AppliedWaiver{Waiver: waiver(w.Waiver), Pos: w.Pos}
		}
	}
	return out
}

func waiver(w spec.Waiver) checkresult.Waiver {
	return checkresult.Waiver{Rule: w.Rule, Model: w.Model, Environment: w.Environment, Reason: w.Reason,
		ApprovedBy: w.ApprovedBy, Expires: w.Expires, Ticket: w.Ticket}
}

// plan records a plan summary in the document, through its JSON so the
// document holds exactly what `slipway plan` writes.
func plan(s *terraform.Summary) *checkresult.Plan {
	if s == nil {
		return nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		// A summary is plain data: it always encodes.
		panic(err)
	}
	var p checkresult.Plan
	if err := json.Unmarshal(b.Bytes(), &p); err != nil {
		panic(err)
	}
	return &p
}
