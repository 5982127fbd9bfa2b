package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
)

// The schema (schemas/platform.cue) is the one home of every default a
// platform or model field takes when the repository leaves it out, such
// as minGroupSize: *30. Nothing else retypes one: Go reads them here, from
// the embedded schema; the Rego packs read them from the data document
// generated from Defaults (policies/defaults.rego, kept equal to it by a
// test in internal/policy), so a policy input that lacks a field, such as a
// hand-written one given to `slipway policy eval` or a Rego unit test's, is
// judged as the loaded specs would have it.

// Defaults are the schema's defaults, as JSON values: Policy those of
// platform.policy (#PolicyDefaults), Model those of a model's fields
// (#Model), each at its path. A field inside an optional struct, such as
// fairness.intersectional, is there too: it is the value the field takes
// when the model writes the struct without it.
type Defaults struct {
	Policy map[string]any `json:"policy"`
	Model  map[string]any `json:"model"`
	// PGState are those of an environment's pg state backend (#PGState),
	// which the environment's own defaults (a local state) do not reach.
	PGState map[string]any `json:"pgState"`
}

var schemaDefaults = sync.OnceValues(func() (Defaults, error) { return DefaultsOf(mustReadSchema()) })

// DefaultsOf reads the defaults of schema source src; SchemaDefaults are
// the embedded schema's. Tests give it an edited schema to see Go and the
// policies follow a changed default.
func DefaultsOf(src []byte) (Defaults, error) {
	v := cuecontext.New().CompileBytes(src)
	if err := v.Err(); err != nil {
		return Defaults{}, fmt.Errorf("schema: %w", err)
	}
	var d Defaults
	var err error
	if d.Policy, err = defaultsOf(v.LookupPath(cue.ParsePath("#PolicyDefaults"))); err != nil {
		return Defaults{}, fmt.Errorf("schema #PolicyDefaults: %w", err)
	}
	if d.Model, err = defaultsOf(v.LookupPath(cue.ParsePath("#Model"))); err != nil {
		return Defaults{}, fmt.Errorf("schema #Model: %w", err)
	}
	if d.PGState, err = defaultsOf(v.LookupPath(cue.ParsePath("#PGState"))); err != nil {
		return Defaults{}, fmt.Errorf("schema #PGState: %w", err)
	}
	return d, nil
}

// SchemaDefaults returns the embedded schema's defaults. The schema is
// part of the binary, so an error is a defect of the build.
func SchemaDefaults() Defaults {
	d, err := schemaDefaults()
	if err != nil {
		panic(err)
	}
	return d
}

// DefaultPolicy is platform.policy as the schema defaults it for a
// repository that sets none of it.
func DefaultPolicy() PolicyDefaults {
	return typed[PolicyDefaults]("#PolicyDefaults", SchemaDefaults().Policy)
}

// DefaultModel is a model's fields as the schema defaults them (the
// fields of its optional structs included, such as
// Monitoring.Drift.Metric), for code that reads a model that may not have
// passed through CUE, such as one decoded from an old signed record.
func DefaultModel() Model {
	return typed[Model]("#Model", SchemaDefaults().Model)
}

// DefaultPGState is the pg state backend as the schema defaults it: its
// schema and its timeouts.
func DefaultPGState() State {
	return typed[State]("#PGState", SchemaDefaults().PGState)
}

// typed decodes the defaults of definition def into its Go type, fresh
// for each caller to change. The schema is part of the binary, so a
// failure is a defect of the build.
func typed[T any](def string, defaults map[string]any) T {
	var v T
	b, err := json.Marshal(defaults)
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	if err != nil {
		panic(fmt.Errorf("schema %s: %w", def, err))
	}
	return v
}

// defaultsOf collects the defaults of the fields of struct v, optional
// fields included, recursing into structs that have no default of their
// own. A field with a default takes it whole; a field without one and
// without nested defaults is left out.
func defaultsOf(v cue.Value) (map[string]any, error) {
	it, err := v.Fields(cue.Optional(true))
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for it.Next() {
		f := it.Value()
		name := it.Selector().Unquoted()
		// A default is CUE's: a marked disjunct (*30 | int), or the
		// empty list an open list ([...string]) takes, as cue export
		// fills them in; an open list with required elements
		// ([#Name, ...#Name]) has none.
		if d, ok := f.Default(); ok && d.Validate(cue.Concrete(true)) == nil {
			var x any
			b, err := d.MarshalJSON()
			if err == nil {
				err = json.Unmarshal(b, &x)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			out[name] = x
			continue
		}
		if f.IncompleteKind() != cue.StructKind {
			continue
		}
		sub, err := defaultsOf(f)
		if err != nil {
			return nil, fmt.Errorf("%s.%w", name, err)
		}
		if len(sub) > 0 {
			out[name] = sub
		}
	}
	return out, nil
}

// FillPolicy returns platform.policy document raw (JSON; empty or null
// when the document has none) with the schema's defaults filled in, as
// loading the specs fills them: CUE unifies it with #PolicyDefaults, so a
// value that breaks the schema is an error naming its field. It serves
// policy inputs written outside a check (`slipway policy eval`).
func FillPolicy(raw []byte) (PolicyDefaults, error) {
	ctx := cuecontext.New()
	v := ctx.CompileBytes(mustReadSchema()).LookupPath(cue.ParsePath("#PolicyDefaults"))
	if s := string(bytes.TrimSpace(raw)); s != "" && s != "null" {
		doc := ctx.CompileBytes(raw, cue.Filename("platform.policy"))
		if err := doc.Err(); err != nil {
			return PolicyDefaults{}, fmt.Errorf("platform.policy: %w", err)
		}
		v = v.Unify(doc)
	}
	var p PolicyDefaults
	if err := v.Validate(cue.Concrete(true)); err != nil {
		return p, fmt.Errorf("platform.policy: %w", err)
	}
	if err := v.Decode(&p); err != nil {
		return p, fmt.Errorf("platform.policy: %w", err)
	}
	return p, nil
}

// A model's minGroupSize and baseline tolerance have no default of their
// own in the schema: unset, the platform's policy value applies, so a
// platform that tightens it binds every model that does not set its own.
// MinGroupSize is the one place Go decides which value applies; Rego's are
// lib.min_group_size and lib.baseline_tolerance (no Go code reads the
// tolerance).

// MinGroupSize is the smallest group whose fairness gaps count: the
// model's fairness.minGroupSize, else the platform's p.MinGroupSize.
func (m Model) MinGroupSize(p PolicyDefaults) int {
	if f := m.Fairness; f != nil && f.MinGroupSize > 0 {
		return f.MinGroupSize
	}
	return p.MinGroupSize
}
