package check

import (
	"bytes"
	"encoding/json"

	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/policy"
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
