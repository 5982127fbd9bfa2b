package terraform

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/slipway-ml/slipway/internal/desired"
)

// Redacted replaces every value Terraform marks sensitive, everywhere
// Slipway shows or stores one.
const Redacted = "(sensitive)"

// Unknown stands for a value Terraform only learns when applying.
const Unknown = "(known after apply)"

// Summary is Slipway's plan summary of one stack (docs/contracts.md): what the
// policy engine reads as input.plan and what `slipway plan` prints.
type Summary struct {
	Stack string `json:"stack"`
	// Name is the stack's name within its environment: the model's name
	// or "_shared".
	Name        string   `json:"name"`
	Environment string   `json:"environment"`
	Model       string   `json:"model"`
	Reasons     []string `json:"reasons"`
	// Mode is "plan" for `slipway plan` and "drift" in `slipway drift`'s
	// report.
	Mode      string     `json:"mode"`
	Changes   Counts     `json:"changes"`
	Resources []Resource `json:"resources"`
	// Drift lists resources whose real-world state differs from the
	// recorded state (Terraform's resource_drift).
	Drift []Resource `json:"drift,omitempty"`
	// Deployment is the module inputs Slipway rendered for the model in
	// this environment; nil for a shared or removed stack.
	Deployment *desired.Deployment `json:"deployment"`
	// Orphan marks a stack whose model or environment left the specs: its
	// plan deletes what it manages.
	Orphan bool `json:"orphan,omitempty"`
	// PlanFile is relative to the platform repository.
	PlanFile   string `json:"plan_file"`
	PlanSHA256 string `json:"plan_sha256"`
	// ConfigSHA256 is the digest of the main.tf.json that was planned;
	// apply refuses a plan whose stack has since been rendered differently.
	ConfigSHA256     string `json:"config_sha256"`
	TerraformVersion string `json:"terraform_version"`
}

// Counts counts planned actions by kind.
type Counts struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Delete  int `json:"delete"`
	Replace int `json:"replace"`
}

// Total is the number of resources that change.
func (c Counts) Total() int { return c.Create + c.Update + c.Delete + c.Replace }

// Resource is one resource a plan changes.
type Resource struct {
	Address string   `json:"address"`
	Type    string   `json:"type"`
	Actions []string `json:"actions"`
	// Changed lists the attribute paths that change, e.g.
	// "input.artifact_digest"; empty for creates and deletes.
	Changed []string `json:"changed"`
	// Diff gives the old and new value of each changed attribute, with
	// sensitive values redacted.
	Diff []AttrDiff `json:"diff,omitempty"`
}

// AttrDiff is one changed attribute.
type AttrDiff struct {
	Path   string `json:"path"`
	Before any    `json:"before"`
	After  any    `json:"after"`
}

// Summarize fills s's changes, resources and drift from a plan.
func Summarize(s *Summary, p *tfjson.Plan) {
	s.Changes = Counts{}
	s.Resources = []Resource{}
	s.Drift = nil
	if p == nil {
		return
	}
	s.TerraformVersion = p.TerraformVersion
	secrets := sensitiveValues(p)
	for _, rc := range p.ResourceChanges {
		r, kind := resource(rc, secrets)
		switch kind {
		case "create":
			s.Changes.Create++
		case "update":
			s.Changes.Update++
		case "delete":
			s.Changes.Delete++
		case "replace":
			s.Changes.Replace++
		default:
			continue
		}
		s.Resources = append(s.Resources, r)
	}
	for _, rc := range p.ResourceDrift {
		if r, kind := resource(rc, secrets); kind != "" {
			s.Drift = append(s.Drift, r)
		}
	}
	sort.Slice(s.Resources, func(i, j int) bool { return s.Resources[i].Address < s.Resources[j].Address })
	sort.Slice(s.Drift, func(i, j int) bool { return s.Drift[i].Address < s.Drift[j].Address })
}

// resource summarises one change and says which count it falls in; kind
// is empty for no-ops and reads.
func resource(rc *tfjson.ResourceChange, secrets []string) (Resource, string) {
	if rc == nil || rc.Change == nil || rc.Mode == tfjson.DataResourceMode {
		return Resource{}, ""
	}
	c := rc.Change
	a := c.Actions
	var kind string
	switch {
	case a.Replace():
		kind = "replace"
	case a.Create():
		kind = "create"
	case a.Update():
		kind = "update"
	case a.Delete(), a.Forget():
		kind = "delete"
	default:
		return Resource{}, ""
	}
	r := Resource{Address: rc.Address, Type: rc.Type, Changed: []string{}}
	for _, x := range a {
		r.Actions = append(r.Actions, string(x))
	}
	if kind == "update" || kind == "replace" {
		var diffs []AttrDiff
		walk("", c.Before, c.After, c.AfterUnknown, c.BeforeSensitive, c.AfterSensitive, &diffs)
		for _, d := range diffs {
			// terraform_data's output only mirrors its input: listing it
			// would repeat every change as one opaque blob.
			if rc.Type == "terraform_data" && (d.Path == "output" || strings.HasPrefix(d.Path, "output.") || strings.HasPrefix(d.Path, "output[")) {
				continue
			}
			d.Before, d.After = scrub(d.Before, secrets), scrub(d.After, secrets)
			r.Diff = append(r.Diff, d)
			r.Changed = append(r.Changed, d.Path)
		}
	}
	return r, kind
}

// walk records the leaves where before and after differ. Objects and lists
// of equal length are descended into; anything else that differs is one
// change. Sensitive values are compared but never recorded.
func walk(path string, before, after, unknown, bSens, aSens any, out *[]AttrDiff) {
	if unknown == true {
		*out = append(*out, AttrDiff{Path: path, Before: redact(before, bSens), After: Unknown})
		return
	}
	if bSens == true || aSens == true {
		if !reflect.DeepEqual(before, after) {
			*out = append(*out, AttrDiff{Path: path, Before: Redacted, After: Redacted})
		}
		return
	}
	bm, bok := before.(map[string]any)
	am, aok := after.(map[string]any)
	if bok && aok {
		keys := map[string]bool{}
		for k := range bm {
			keys[k] = true
		}
		for k := range am {
			keys[k] = true
		}
		if um, ok := unknown.(map[string]any); ok {
			for k := range um {
				keys[k] = true
			}
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			walk(join(path, k), bm[k], am[k], index(unknown, k), index(bSens, k), index(aSens, k), out)
		}
		return
	}
	bl, bok := before.([]any)
	al, aok := after.([]any)
	if bok && aok && len(bl) == len(al) {
		for i := range bl {
			walk(fmt.Sprintf("%s[%d]", path, i), bl[i], al[i], index(unknown, i), index(bSens, i), index(aSens, i), out)
		}
		return
	}
	if !reflect.DeepEqual(before, after) {
		*out = append(*out, AttrDiff{Path: path, Before: redact(before, bSens), After: redact(after, aSens)})
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	if strings.ContainsAny(key, ".[]\" ") {
		return fmt.Sprintf("%s[%q]", path, key)
	}
	return path + "." + key
}

// index descends into the sensitivity or unknown marker structure.
func index(v any, k any) any {
	switch x := v.(type) {
	case map[string]any:
		if s, ok := k.(string); ok {
			return x[s]
		}
	case []any:
		if i, ok := k.(int); ok && i < len(x) {
			return x[i]
		}
	}
	return nil
}

// redact returns v with every leaf sens marks true replaced by Redacted.
func redact(v, sens any) any {
	if sens == true {
		if v == nil {
			return nil
		}
		return Redacted
	}
	switch x := v.(type) {
	case map[string]any:
		if sens == nil {
			return x
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = redact(e, index(sens, k))
		}
		return out
	case []any:
		if sens == nil {
			return x
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redact(e, index(sens, i))
		}
		return out
	}
	return v
}

// RedactedJSON is the `terraform show -json` document Slipway stores
// beside a plan: every value Terraform marks sensitive in resource changes,
// drift and outputs is replaced by Redacted, and the prior state and
// planned values (which repeat those values without markers Slipway can
// rely on across versions) are dropped.
func RedactedJSON(p *tfjson.Plan) ([]byte, error) {
	cp := *p
	cp.PriorState = nil
	cp.PlannedValues = nil
	cp.Variables = nil
	cp.ResourceChanges = redactChanges(p.ResourceChanges)
	cp.ResourceDrift = redactChanges(p.ResourceDrift)
	if p.OutputChanges != nil {
		cp.OutputChanges = map[string]*tfjson.Change{}
		for k, c := range p.OutputChanges {
			cp.OutputChanges[k] = redactChange(c)
		}
	}
	b, err := json.Marshal(&cp)
	if err != nil {
		return nil, err
	}
	// Terraform does not carry every mark along (terraform_data's output
	// repeats its input unmarked), so any value marked sensitive anywhere is
	// scrubbed everywhere.
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	return json.MarshalIndent(scrub(doc, sensitiveValues(p)), "", "  ")
}

// sensitiveValues collects the string form of every value the plan marks
// sensitive: in resource changes, drift, outputs and variable defaults.
func sensitiveValues(p *tfjson.Plan) []string {
	set := map[string]bool{}
	add := func(v, sens any) { collect(v, sens, set) }
	for _, list := range [][]*tfjson.ResourceChange{p.ResourceChanges, p.ResourceDrift} {
		for _, rc := range list {
			if rc != nil && rc.Change != nil {
				add(rc.Change.Before, rc.Change.BeforeSensitive)
				add(rc.Change.After, rc.Change.AfterSensitive)
			}
		}
	}
	for _, c := range p.OutputChanges {
		if c != nil {
			add(c.Before, c.BeforeSensitive)
			add(c.After, c.AfterSensitive)
		}
	}
	if p.Config != nil && p.Config.RootModule != nil {
		for name, v := range p.Config.RootModule.Variables {
			if v != nil && v.Sensitive {
				add(v.Default, true)
				if pv := p.Variables[name]; pv != nil {
					add(pv.Value, true)
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	// Longest first, so a secret containing another is replaced whole.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

func collect(v, sens any, set map[string]bool) {
	if sens == true {
		leaves(v, set)
		return
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			collect(e, index(sens, k), set)
		}
	case []any:
		for i, e := range x {
			collect(e, index(sens, i), set)
		}
	}
}

func leaves(v any, set map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			leaves(e, set)
		}
	case []any:
		for _, e := range x {
			leaves(e, set)
		}
	case string:
		// Very short values would scrub ordinary words; they are still
		// redacted where Terraform marks them.
		if len(x) >= 4 {
			set[x] = true
		}
	case nil, bool:
	default:
		if s := fmt.Sprint(x); len(s) >= 4 {
			set[s] = true
		}
	}
}

// scrub replaces every occurrence of a secret in v's strings.
func scrub(v any, secrets []string) any {
	if len(secrets) == 0 {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = scrub(e, secrets)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = scrub(e, secrets)
		}
		return out
	case string:
		for _, s := range secrets {
			if x == s {
				return Redacted
			}
			x = strings.ReplaceAll(x, s, Redacted)
		}
		return x
	}
	return v
}

func redactChanges(in []*tfjson.ResourceChange) []*tfjson.ResourceChange {
	if in == nil {
		return nil
	}
	out := make([]*tfjson.ResourceChange, len(in))
	for i, rc := range in {
		c := *rc
		c.Change = redactChange(rc.Change)
		out[i] = &c
	}
	return out
}

func redactChange(c *tfjson.Change) *tfjson.Change {
	if c == nil {
		return nil
	}
	cp := *c
	cp.Before = redact(c.Before, c.BeforeSensitive)
	cp.After = redact(c.After, c.AfterSensitive)
	return &cp
}

// Deployed reports whether the state a plan started from holds any
// managed resource: a stack that was never applied has nothing to drift.
// Data sources do not count: the plan's prior state holds those it read,
// such as a blue-green stack's read of its own (empty) state.
func Deployed(p *tfjson.Plan) bool {
	if p == nil || p.PriorState == nil || p.PriorState.Values == nil {
		return false
	}
	var has func(m *tfjson.StateModule) bool
	has = func(m *tfjson.StateModule) bool {
		if m == nil {
			return false
		}
		for _, r := range m.Resources {
			if r.Mode == tfjson.ManagedResourceMode {
				return true
			}
		}
		for _, c := range m.ChildModules {
			if has(c) {
				return true
			}
		}
		return false
	}
	return has(p.PriorState.Values.RootModule)
}
