package report

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// alwaysRego is a repository rule that can never fail, tagged with the
// Annex IV points no built-in rule evidences.
const alwaysRego = `package slipway.repo.paperwork

# METADATA
# title: Paperwork in order
# custom:
#   id: repo.paperwork
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(a)}
#     - {framework: EU AI Act, id: Annex IV 5}
#     - {framework: EU AI Act, id: Annex IV 7}
#     - {framework: EU AI Act, id: Annex IV 8}
deny contains r if {
	false
	r := {"id": "repo.paperwork", "msg": "never", "field": "owner"}
}
`

// TestRepositoryRuleCoversNothing: a never-failing repository rule
// tagged with Annex IV points leaves them gaps, shown as a repository
// rule with the policy digest, unless the platform trusts repository
// controls.
func TestRepositoryRuleCoversNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("releases the example: not in -short")
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "policies"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "policies", "paperwork.rego"), []byte(alwaysRego), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := buildReleased(root); err != nil {
		t.Fatal(err)
	}
	items := []string{"Annex IV 2(a)", "Annex IV 5", "Annex IV 7", "Annex IV 8"}
	for _, tc := range []struct {
		trust bool
		want  string
	}{
		{false, StatusGap},
		{true, StatusCovered},
	} {
		rep := build(t, root, productionAt, func(o *Options) { o.Platform.Policy.TrustRepositoryControls = tc.trust })
		got := map[string]string{}
		var label string
		for _, f := range rep.Coverage {
			for _, it := range f.Items {
				for _, c := range it.Models {
					if f.Framework == "EU AI Act" && c.Model == "credit-default" {
						got[it.ID] = c.Status
						for _, r := range c.Results {
							if r.Rule == "repo.paperwork" {
								label = r.Label
							}
						}
					}
				}
			}
		}
		want := map[string]string{}
		for _, id := range items {
			want[id] = tc.want
		}
		if !tc.trust {
			// The risk register declares Annex IV 5: declared by its
			// owner, still not covered.
			want["Annex IV 5"] = StatusDeclared
		}
		sub := map[string]string{}
		for _, id := range items {
			sub[id] = got[id]
		}
		if diff := cmp.Diff(want, sub); diff != "" {
			t.Errorf("trustRepositoryControls=%v: (-want +got)\n%s", tc.trust, diff)
		}
		if got["Annex IV 9"] == StatusCovered {
			t.Errorf("Annex IV 9 covered without any rule carrying it")
		}
		if want := "repository rule repo.paperwork (policy sha256:"; len(label) < len(want) || label[:len(want)] != want {
			t.Errorf("repository rule label = %q, want it to start %q", label, want)
		}
	}
}

// TestFrameworksComplete: every framework lists all its items, and every
// mapping names a rule and says why.
func TestFrameworksComplete(t *testing.T) {
	want := map[string]int{"EU AI Act": 8 + 8 + 7 + 9, "ISO/IEC 42001": 38, "NIST AI RMF": 72}
	got := map[string]int{}
	for _, f := range frameworkDefs() {
		got[f.Framework] = len(f.Items)
		seen := map[string]bool{}
		for _, it := range f.Items {
			if seen[it.ID] {
				t.Errorf("%s lists %s twice", f.Framework, it.ID)
			}
			seen[it.ID] = true
			for _, m := range it.CarriedBy {
				if m.Rule == "" || m.Why == "" {
					t.Errorf("%s %s: mapping %+v lacks a rule or a rationale", f.Framework, it.ID, m)
				}
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("items per framework (-want +got):\n%s", diff)
	}
}
