package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// schemaPath is the documented JSON Schema of the JSON report. It is
// generated from the Go types (go test -update), so it cannot drift from
// what Render writes, and every golden JSON report is validated against
// it.
const schemaPath = "../../docs/report-schema.json"

// descriptions document the schema's definitions and notable fields.
var descriptions = map[string]string{
	"Report":                  "Slipway audit report (slipway report --format json). Figures come only from verified release records (source \"signed\") or from evidence files whose sha256 those records pin (source \"evidence\"); \"spec\" marks descriptions taken from the platform spec as it is now.",
	"Report.schema":           "Format identifier: " + SchemaVersion,
	"Report.generated_at":     "The report's clock (RFC 3339 UTC); SLIPWAY_NOW pins it.",
	"Report.ledger":           "Outcome of verifying the whole release ledger.",
	"Report.portfolio":        "Every model in scope with its current version per environment.",
	"Report.failed_releases":  "Release records that fail verification; none of their figures are used elsewhere.",
	"Report.coverage":         "One control coverage table per framework; which rule serves which item comes from the rules' metadata.",
	"Report.models":           "One dossier per model in scope.",
	"WaiverRow.status":        "active, expiring (within 30 days), expired or unapproved, at the report's clock.",
	"WaiverRow.days_left":     "Days until the end of the expiry date; negative once expired.",
	"FrameworkGaps.gap_items": "Items that are a gap for at least one model.",
	"FrameworkGaps.cells":     "Model × item cells: the framework's items times the models in scope. covered, exception and gap count cells and add up to it.",
	"CoverageCell.status":     "covered (a serving rule passed in the model's verified reference release), declared (only rules that check a person's declaration is complete passed: declared by its owner, not verified), exception (only waived or warned), not applicable or gap.",
	"Dossier.reference":       "The verified release the dossier's figures come from: the newest in the furthest environment in scope; null when there is none.",
	"InputRow.match":          "Whether the file at hand has the signed digest: match, changed or missing.",
	"MetricRow.source":        "signed, evidence, or empty when there is no value.",
	"FairnessSection.missing": "Why there is no fairness evidence, when there is none.",
}

var enums = map[string][]string{
	"CoverageCell.status": {StatusCovered, StatusDeclared, StatusException, StatusGap, StatusNotApplicable},
	"WaiverRow.status":    {WaiverActive, WaiverExpiring, WaiverExpired, WaiverUnapproved},
	"InputRow.match":      {matchOK, matchChanged, matchMissing, matchBundled, matchBlobMissing, matchBlobChanged},
}

// jsonSchema generates the schema of the Report type.
func jsonSchema() map[string]any {
	defs := map[string]any{}
	var def func(t reflect.Type) map[string]any
	var typ func(t reflect.Type, owner, field string) map[string]any
	typ = func(t reflect.Type, owner, field string) map[string]any {
		key := owner + "." + field
		var s map[string]any
		switch t.Kind() {
		case reflect.Pointer:
			inner := typ(t.Elem(), owner, field)
			return map[string]any{"anyOf": []any{inner, map[string]any{"type": "null"}}}
		case reflect.Struct:
			def(t)
			s = map[string]any{"$ref": "#/$defs/" + t.Name()}
		case reflect.Slice:
			s = map[string]any{"type": "array", "items": typ(t.Elem(), owner, field)}
		case reflect.Map:
			s = map[string]any{"type": "object", "additionalProperties": typ(t.Elem(), owner, field)}
		case reflect.String:
			s = map[string]any{"type": "string"}
			if e, ok := enums[key]; ok {
				s["enum"] = e
			}
		case reflect.Bool:
			s = map[string]any{"type": "boolean"}
		case reflect.Int, reflect.Int64:
			s = map[string]any{"type": "integer"}
		case reflect.Float64:
			s = map[string]any{"type": "number"}
		default:
			panic(fmt.Sprintf("schema: unsupported kind %s", t.Kind()))
		}
		if d, ok := descriptions[key]; ok && field != "" {
			s["description"] = d
		}
		return s
	}
	def = func(t reflect.Type) map[string]any {
		if d, ok := defs[t.Name()]; ok {
			return d.(map[string]any)
		}
		d := map[string]any{"type": "object", "additionalProperties": false}
		defs[t.Name()] = d
		if desc, ok := descriptions[t.Name()]; ok {
			d["description"] = desc
		}
		props := map[string]any{}
		required := []string{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if !f.IsExported() || tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			props[name] = typ(f.Type, t.Name(), name)
			if !strings.Contains(opts, "omitempty") {
				required = append(required, name)
			}
		}
		d["properties"] = props
		sort.Strings(required)
		d["required"] = required
		return d
	}
	root := def(reflect.TypeOf(Report{}))
	delete(defs, "Report")
	s := map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"$id":     "https://slipway.dev/schemas/report-v1.json",
		"title":   "Slipway audit report",
		"$defs":   defs,
	}
	for k, v := range root {
		s[k] = v
	}
	return s
}

func TestSchema(t *testing.T) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(jsonSchema()); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(schemaPath, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Fatalf("%s is out of date with the Go types (go test -update):\n%s", schemaPath, diff)
	}
	var schema map[string]any
	if err := json.Unmarshal(want, &schema); err != nil {
		t.Fatal(err)
	}
	// The validator itself rejects what the schema forbids.
	for _, bad := range []string{`{"schema": 1}`, `{"unknown": true}`, `{"models": [{"model": "x"}]}`} {
		var doc any
		_ = json.Unmarshal([]byte(bad), &doc)
		if len(validate(schema, schema, doc, "$")) == 0 {
			t.Errorf("validate accepted %s", bad)
		}
	}
	files, _ := filepath.Glob("testdata/*.json")
	if len(files) == 0 {
		t.Fatal("no golden JSON report to validate")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		if errs := validate(schema, schema, doc, "$"); len(errs) > 0 {
			t.Errorf("%s does not follow %s:\n%s", f, schemaPath, strings.Join(errs, "\n"))
		}
	}
}

// validate checks doc against the subset of JSON Schema jsonSchema
// writes: $ref, anyOf, type, enum, properties, required,
// additionalProperties and items.
func validate(root, s map[string]any, doc any, at string) []string {
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/$defs/")
		return validate(root, root["$defs"].(map[string]any)[name].(map[string]any), doc, at)
	}
	if alts, ok := s["anyOf"].([]any); ok {
		var all []string
		for _, alt := range alts {
			errs := validate(root, alt.(map[string]any), doc, at)
			if len(errs) == 0 {
				return nil
			}
			all = append(all, errs...)
		}
		return all
	}
	typ, _ := s["type"].(string)
	bad := func() []string { return []string{fmt.Sprintf("%s: want %s, have %T", at, typ, doc)} }
	switch typ {
	case "null":
		if doc != nil {
			return bad()
		}
	case "string":
		str, ok := doc.(string)
		if !ok {
			return bad()
		}
		if e, ok := s["enum"].([]any); ok {
			found := false
			for _, v := range e {
				found = found || v == str
			}
			if !found {
				return []string{fmt.Sprintf("%s: %q is not one of %v", at, str, e)}
			}
		}
	case "boolean":
		if _, ok := doc.(bool); !ok {
			return bad()
		}
	case "number", "integer":
		n, ok := doc.(float64)
		if !ok || (typ == "integer" && n != float64(int64(n))) {
			return bad()
		}
	case "array":
		arr, ok := doc.([]any)
		if !ok {
			return bad()
		}
		var errs []string
		for i, v := range arr {
			errs = append(errs, validate(root, s["items"].(map[string]any), v, fmt.Sprintf("%s[%d]", at, i))...)
		}
		return errs
	case "object":
		obj, ok := doc.(map[string]any)
		if !ok {
			return bad()
		}
		var errs []string
		props, _ := s["properties"].(map[string]any)
		for _, r := range s["required"].([]any) {
			if _, ok := obj[r.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: %s is required", at, r))
			}
		}
		for k, v := range obj {
			if ps, ok := props[k]; ok {
				errs = append(errs, validate(root, ps.(map[string]any), v, at+"."+k)...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					errs = append(errs, fmt.Sprintf("%s: %s is not in the schema", at, k))
				}
			case map[string]any:
				errs = append(errs, validate(root, ap, v, at+"."+k)...)
			}
		}
		return errs
	}
	return nil
}
