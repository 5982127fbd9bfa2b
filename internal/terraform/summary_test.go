package terraform

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	tfjson "github.com/hashicorp/terraform-json"
)

func change(addr string, actions tfjson.Actions, before, after, unknown, bSens, aSens any) *tfjson.ResourceChange {
	return &tfjson.ResourceChange{Address: addr, Type: "x_thing", Mode: tfjson.ManagedResourceMode, Change: &tfjson.Change{
		Actions: actions, Before: before, After: after, AfterUnknown: unknown, BeforeSensitive: bSens, AfterSensitive: aSens,
	}}
}

// TestSummarize covers every action kind and the attribute walk without a
// Terraform binary.
func TestSummarize(t *testing.T) {
	p := &tfjson.Plan{
		TerraformVersion: "1.11.4",
		ResourceChanges: []*tfjson.ResourceChange{
			change("x_thing.new", tfjson.Actions{tfjson.ActionCreate}, nil, map[string]any{"a": "1"}, nil, nil, nil),
			change("x_thing.gone", tfjson.Actions{tfjson.ActionDelete}, map[string]any{"a": "1"}, nil, nil, nil, nil),
			change("x_thing.same", tfjson.Actions{tfjson.ActionNoop}, map[string]any{"a": "1"}, map[string]any{"a": "1"}, nil, nil, nil),
			change("x_thing.forgotten", tfjson.Actions{tfjson.ActionForget}, map[string]any{"a": "1"}, nil, nil, nil, nil),
			change("x_thing.swap", tfjson.Actions{tfjson.ActionDelete, tfjson.ActionCreate},
				map[string]any{"ns": "a", "id": "1"}, map[string]any{"ns": "b"}, map[string]any{"id": true}, nil, nil),
			change("x_thing.edit", tfjson.Actions{tfjson.ActionUpdate},
				map[string]any{
					"cfg":   map[string]any{"cpu": 1.0, "token": "hunter22", "steps": []any{10.0, 50.0}},
					"tags":  []any{"a"},
					"label": "my key.with dots",
				},
				map[string]any{
					"cfg":   map[string]any{"cpu": 2.0, "token": "hunter33", "steps": []any{10.0, 60.0}},
					"tags":  []any{"a", "b"},
					"label": "my key.with dots",
				},
				nil,
				map[string]any{"cfg": map[string]any{"token": true}},
				map[string]any{"cfg": map[string]any{"token": true}}),
			{Address: "data.x_thing.read", Mode: tfjson.DataResourceMode, Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionRead}}},
		},
		ResourceDrift: []*tfjson.ResourceChange{
			change("x_thing.drifted", tfjson.Actions{tfjson.ActionUpdate}, map[string]any{"a": "1"}, map[string]any{"a": "2"}, nil, nil, nil),
		},
	}
	var s Summary
	Summarize(&s, p)
	if diff := cmp.Diff(Counts{Create: 1, Update: 1, Delete: 2, Replace: 1}, s.Changes); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	want := []Resource{
		{Address: "x_thing.edit", Type: "x_thing", Actions: []string{"update"},
			Changed: []string{"cfg.cpu", "cfg.steps[1]", "cfg.token", "tags"},
			Diff: []AttrDiff{
				{Path: "cfg.cpu", Before: 1.0, After: 2.0},
				{Path: "cfg.steps[1]", Before: 50.0, After: 60.0},
				{Path: "cfg.token", Before: Redacted, After: Redacted},
				{Path: "tags", Before: []any{"a"}, After: []any{"a", "b"}},
			}},
		{Address: "x_thing.forgotten", Type: "x_thing", Actions: []string{"forget"}, Changed: []string{}},
		{Address: "x_thing.gone", Type: "x_thing", Actions: []string{"delete"}, Changed: []string{}},
		{Address: "x_thing.new", Type: "x_thing", Actions: []string{"create"}, Changed: []string{}},
		{Address: "x_thing.swap", Type: "x_thing", Actions: []string{"delete", "create"},
			Changed: []string{"id", "ns"},
			Diff: []AttrDiff{
				{Path: "id", Before: "1", After: Unknown},
				{Path: "ns", Before: "a", After: "b"},
			}},
	}
	if diff := cmp.Diff(want, s.Resources); diff != "" {
		t.Errorf("resources (-want +got):\n%s", diff)
	}
	if len(s.Drift) != 1 || s.Drift[0].Address != "x_thing.drifted" {
		t.Errorf("drift = %+v", s.Drift)
	}
	js, err := RedactedJSON(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), "hunter") {
		t.Errorf("redacted plan JSON leaks a sensitive value:\n%s", js)
	}
}

func TestJoin(t *testing.T) {
	for _, tc := range []struct{ path, key, want string }{
		{"", "input", "input"},
		{"input", "cpu", "input.cpu"},
		{"tags", "a.b", `tags["a.b"]`},
	} {
		if got := join(tc.path, tc.key); got != tc.want {
			t.Errorf("join(%q, %q) = %q, want %q", tc.path, tc.key, got, tc.want)
		}
	}
}

// TestDeployed counts managed resources, in any module, and not the data
// sources a plan read, such as a blue-green stack's read of its own state.
func TestDeployed(t *testing.T) {
	data := &tfjson.StateResource{Address: "data.terraform_remote_state.self", Mode: tfjson.DataResourceMode}
	managed := &tfjson.StateResource{Address: "module.deployment.terraform_data.live[0]", Mode: tfjson.ManagedResourceMode}
	plan := func(root *tfjson.StateModule) *tfjson.Plan {
		return &tfjson.Plan{PriorState: &tfjson.State{Values: &tfjson.StateValues{RootModule: root}}}
	}
	tests := []struct {
		name string
		plan *tfjson.Plan
		want bool
	}{
		{"no prior state", &tfjson.Plan{}, false},
		{"empty state", plan(&tfjson.StateModule{}), false},
		{"only a data source read", plan(&tfjson.StateModule{Resources: []*tfjson.StateResource{data}}), false},
		{"a managed resource in a module", plan(&tfjson.StateModule{Resources: []*tfjson.StateResource{data},
			ChildModules: []*tfjson.StateModule{{Address: "module.deployment", Resources: []*tfjson.StateResource{managed}}}}), true},
	}
	for _, tt := range tests {
		if got := Deployed(tt.plan); got != tt.want {
			t.Errorf("%s: Deployed = %v, want %v", tt.name, got, tt.want)
		}
	}
}
