package render_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/desired"
	"github.com/slipway-ml/slipway/internal/render"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/terraform"
)

// secretValue is what the payloads try to read into the plan.
const secretValue = "SECRET-3f9c1d-VALUE"

// templatePayloads are spec strings Terraform's JSON syntax would evaluate
// as templates unless the renderer escapes them. SECRET names a file
// holding secretValue.
var templatePayloads = []string{
	`${file("SECRET")}`,
	`${base64encode(file("SECRET"))}`,
	`%{ if true }x%{ endif }`,
	`%{ for c in ["a"] }${c}%{ endfor }`,
	`$${x}`,
	`$$${file("SECRET")}`,
	`%%{x}`,
	`%%%{ if true }y%{ endif }`,
	`${`,
	`%{`,
	`$`,
	`%`,
	`tail$`,
	`tail%`,
	`$$`,
	`${var.nope}`,
	`a ${"b"} c`,
	`ünï ${upper("x")} 🚀`,
}

// fillStrings sets every string reachable from v (struct fields, pointers,
// slices, map keys and values) to the next payload, numbered so that names
// used as for_each keys stay unique. It returns the strings it set.
func fillStrings(v reflect.Value, next func() string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			fillStrings(v.Elem(), next)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			// The rollback strategy only selects which resources a
			// local module declares (a count), so no resource holds it:
			// it keeps its real value.
			if v.Type().Field(i).Name == "RollbackStrategy" {
				continue
			}
			fillStrings(v.Field(i), next)
		}
	case reflect.Slice:
		for i := range v.Len() {
			fillStrings(v.Index(i), next)
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String || v.Type().Elem().Kind() != reflect.String {
			panic("unexpected map type " + v.Type().String())
		}
		m := reflect.MakeMap(v.Type())
		iter := v.MapRange()
		for iter.Next() {
			m.SetMapIndex(reflect.ValueOf(next()), reflect.ValueOf(next()))
		}
		v.Set(m)
	case reflect.String:
		v.SetString(next())
	}
}

// collectStrings gathers every string and object key of a JSON value.
func collectStrings(v any, into map[string]bool) {
	switch v := v.(type) {
	case string:
		into[v] = true
	case []any:
		for _, x := range v {
			collectStrings(x, into)
		}
	case map[string]any:
		for k, x := range v {
			into[k] = true
			collectStrings(x, into)
		}
	}
}

// TestTemplateSyntaxStaysLiteral renders stacks whose every input string
// is template syntax, plans them with the real Terraform and proves that
// the planned values hold the spec's bytes exactly: Terraform evaluated
// none of them, and the secret file they name never reaches the plan.
func TestTemplateSyntaxStaysLiteral(t *testing.T) {
	if testing.Short() {
		t.Skip("plans with the real terraform")
	}
	bin, err := terraform.Find(context.Background(), "")
	if err != nil {
		t.Skipf("no terraform: %v", err)
	}
	ctx := context.Background()
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(secretValue), 0o600); err != nil {
		t.Fatal(err)
	}
	n := 0
	next := func() string {
		s := strings.ReplaceAll(templatePayloads[n%len(templatePayloads)], "SECRET", secretFile)
		s = fmt.Sprintf("%s#%d", s, n)
		n++
		return s
	}
	var stacks []desired.Stack
	for _, s := range desired.EnvironmentStacks(loadSmall(t), "staging") {
		for _, m := range s.Modules {
			fillStrings(reflect.ValueOf(m.Inputs), next)
		}
		stacks = append(stacks, s)
	}
	l := render.Layout{Root: filepath.Join(t.TempDir(), ".slipway")}
	rendered, err := render.Write(l, stacks)
	if err != nil {
		t.Fatal(err)
	}
	r, err := terraform.NewRunner(bin, l.Root)
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range rendered {
		t.Run(rs.Name, func(t *testing.T) {
			want := map[string]bool{}
			for _, m := range rs.Modules {
				b, _ := json.Marshal(m.Inputs)
				var v any
				if err := json.Unmarshal(b, &v); err != nil {
					t.Fatal(err)
				}
				collectStrings(v, want)
			}
			ts := terraform.Stack{ID: rs.ID(), Dir: rs.Dir, InitKey: rs.InitKey, BuiltinOnly: true}
			if err := r.Init(ctx, ts); err != nil {
				t.Fatal(err)
			}
			plan, err := r.Plan(ctx, ts, l.PlanPath(rs.Environment, rs.Name, ".tfplan"), terraform.Normal)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := json.Marshal(plan)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(raw), secretValue) {
				t.Errorf("the plan holds the secret file's content")
			}
			got := map[string]bool{}
			for _, rc := range plan.ResourceChanges {
				if rc.Change != nil {
					collectStrings(rc.Change.After, got)
				}
			}
			// Every spec string that reaches a resource arrives unchanged;
			// every payload-like string in the plan is one the spec holds.
			var missing, evaluated []string
			for s := range want {
				if strings.Contains(s, "#") && !got[s] {
					missing = append(missing, s)
				}
			}
			for s := range got {
				if strings.Contains(s, "#") && !want[s] {
					evaluated = append(evaluated, s)
				}
			}
			sort.Strings(missing)
			sort.Strings(evaluated)
			if diff := cmp.Diff([]string(nil), evaluated); diff != "" {
				t.Errorf("planned strings the spec does not hold (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string(nil), missing); diff != "" {
				t.Errorf("spec strings missing from the plan (-want +got):\n%s", diff)
			}
		})
	}
}

// TestProviderConfigIsLiteral: the kubernetes provider's context comes from
// the spec and is evaluated like any other string.
func TestProviderConfigIsLiteral(t *testing.T) {
	s := desired.Stack{Environment: "e", Name: "m", Target: "kubernetes",
		Kubernetes: &spec.Kubernetes{Context: `${file("/etc/passwd")}%{ if true }`}}
	doc, err := render.Root(s)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Provider struct {
			Kubernetes struct {
				ConfigContext string `json:"config_context"`
			} `json:"kubernetes"`
		} `json:"provider"`
	}
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(`$${file("/etc/passwd")}%%{ if true }`, v.Provider.Kubernetes.ConfigContext); diff != "" {
		t.Error(diff)
	}
}
