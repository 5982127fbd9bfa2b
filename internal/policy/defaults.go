package policy

import (
	"bytes"
	"encoding/json"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"

	"github.com/slipway-ml/slipway/internal/spec"
)

// DefaultsFile is the built-in module that hands the schema's defaults to
// the Rego packs as data.slipway.defaults: lib.policy lays the input's
// platform.policy over its policy, so an input that lacks a field (a
// hand-written one given to `slipway policy eval`, a Rego unit test's) is
// judged with the schema's value, and no rule retypes one as a fallback.
// It is generated from spec.SchemaDefaults, the embedded schema's, and
// TestDefaultsRego fails when the two differ; a file rather than a value
// the engine injects, so that `opa test policies` reads the same defaults.
const DefaultsFile = "defaults.rego"

// DefaultsRego renders the module DefaultsFile holds for defaults d.
func DefaultsRego(d spec.Defaults) []byte {
	var b bytes.Buffer
	b.WriteString(`# Code generated from schemas/platform.cue by go test ./internal/policy -run TestDefaultsRego -update; DO NOT EDIT.

# METADATA
# title: Schema defaults
# description: >-
#   The defaults of schemas/platform.cue, the one place they are written:
#   policy are those of platform.policy, model those of a model's fields,
#   each at its path. Rules read platform.policy through lib.policy, which
#   fills in these defaults.
package slipway.defaults

`)
	b.WriteString("policy := ")
	b.Write(regoValue(d.Policy))
	b.WriteString("\n\nmodel := ")
	b.Write(regoValue(d.Model))
	b.WriteString("\n")
	// As opa fmt writes it, so that the generated file passes opa fmt -l.
	out, err := format.SourceWithOpts(DefaultsFile, b.Bytes(), format.Opts{RegoVersion: ast.RegoV1})
	if err != nil {
		panic(err)
	}
	return out
}

// regoValue writes a JSON value as Rego, which reads JSON as it is.
func regoValue(v any) []byte {
	b, err := json.MarshalIndent(v, "", "\t")
	if err != nil {
		// The schema's defaults are JSON values already.
		panic(err)
	}
	return b
}
