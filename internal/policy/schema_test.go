package policy

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/slipway-ml/slipway/internal/evidence"
	"github.com/slipway-ml/slipway/internal/spec"
)

// TestInputSchema checks the input documents of the example platform (real
// specs and evidence) against docs/policy-input.schema.json, with OPA's own
// JSON Schema validator, so the documented shape is the one rules get.
func TestInputSchema(t *testing.T) {
	ctx := context.Background()
	b, err := os.ReadFile("../../docs/policy-input.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema any
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	q, err := rego.New(rego.Query("[ok, errs] := json.match_schema(input.doc, input.schema)")).PrepareForEval(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := spec.Load(ctx, "../../examples/credit-risk")
	if err != nil {
		t.Fatal(err)
	}
	plan := fixture(t).Plan
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, name := range p.ModelNames() {
		sum, err := evidence.Evaluate(ctx, p, name, evidence.Options{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		for _, env := range p.Models[name].Environments {
			in := NewInput(p, Unit{Model: name, Environment: env, Evidence: sum, Plan: plan, Now: now,
				Approvals: []Approval{{User: "alice", State: "APPROVED", SubmittedAt: "2026-11-20T10:00:00Z"}},
				Releases:  map[string]Release{"staging": {Version: "1.0.0", Decision: "pass"}}})
			doc, err := inputDocument(in)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := q.Eval(ctx, rego.EvalInput(map[string]any{"doc": doc, "schema": schema}))
			if err != nil || len(rs) == 0 {
				t.Fatalf("match_schema: %v", err)
			}
			if ok, _ := rs[0].Bindings["ok"].(bool); !ok {
				t.Errorf("%s@%s does not match the schema: %v", name, env, rs[0].Bindings["errs"])
			}
			// The schema is not vacuous: a wrong phase fails it.
			doc["phase"] = "later"
			rs, _ = q.Eval(ctx, rego.EvalInput(map[string]any{"doc": doc, "schema": schema}))
			if ok, _ := rs[0].Bindings["ok"].(bool); ok {
				t.Errorf("%s@%s: a wrong phase matches the schema", name, env)
			}
		}
	}
}
