package modules_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"path"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-config-inspect/tfconfig"

	"github.com/slipway-ml/slipway/internal/desired"
	"github.com/slipway-ml/slipway/internal/render"
	"github.com/slipway-ml/slipway/modules"
)

// contractSamples are module inputs of each kind as Slipway renders them.
func contractSamples() map[string]any {
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	base := func(kind string) desired.Deployment {
		return desired.Deployment{Kind: kind, Labels: map[string]string{}, DataSources: []desired.DataSourceRef{},
			Alerts: []desired.Alert{}, SLOs: []desired.SLO{}}
	}
	online := base("online")
	online.Replicas, online.LatencySLOMs, online.Rollout, online.Health = &desired.Replicas{}, num(1), &desired.Rollout{}, &desired.Health{}
	batch := base("batch")
	batch.Schedule, batch.WaitFor, batch.Timeout, batch.Retries = str("@daily"), str(""), str("1h"), num(0)
	streaming := base("streaming")
	streaming.InputTopic, streaming.OutputTopic, streaming.ConsumerGroup, streaming.Parallelism = str("a"), str("b"), str("c"), num(1)
	streaming.Health = &desired.Health{}
	return map[string]any{"online": online, "batch": batch, "streaming": streaming, "shared": desired.Shared{}}
}

func keys(v any) []string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type contract struct {
	Variables map[string]string // name -> type
	Outputs   []string
}

func load(t *testing.T, dir string) contract {
	t.Helper()
	mod, diags := tfconfig.LoadModule(dir)
	if diags.HasErrors() {
		t.Fatalf("parse %s: %v", dir, diags.Err())
	}
	c := contract{Variables: map[string]string{}}
	for name, v := range mod.Variables {
		c.Variables[name] = v.Type
	}
	for name := range mod.Outputs {
		c.Outputs = append(c.Outputs, name)
	}
	sort.Strings(c.Outputs)
	return c
}

// TestContract checks that every target's module of a kind declares the
// variables Slipway renders for that kind (the specs' inputs and the
// renderer's own), no more and no fewer, and that
// all targets agree on variable types and outputs.
func TestContract(t *testing.T) {
	samples := contractSamples()
	for _, kind := range desired.Kinds {
		t.Run(kind, func(t *testing.T) {
			want := keys(samples[kind])
			if kind != desired.KindShared {
				// Set by the renderer of a blue-green stack, not the specs.
				want = append(want, render.BlueGreenInput)
				sort.Strings(want)
			}
			var first contract
			for i, target := range modules.Targets {
				got := load(t, path.Join(target, kind))
				var names []string
				for n := range got.Variables {
					names = append(names, n)
				}
				sort.Strings(names)
				if diff := cmp.Diff(want, names); diff != "" {
					t.Errorf("%s/%s variables differ from the rendered inputs (-want +got):\n%s", target, kind, diff)
				}
				if i == 0 {
					first = got
					continue
				}
				if diff := cmp.Diff(first, got); diff != "" {
					t.Errorf("%s/%s contract differs from %s/%s (-%s +%s):\n%s", target, kind, modules.Targets[0], kind, modules.Targets[0], target, diff)
				}
			}
		})
	}
}

// TestKubernetesResources checks that the kubernetes modules manage what
// their kind needs on a cluster.
func TestKubernetesResources(t *testing.T) {
	want := map[string][]string{
		"online":    {"kubernetes_config_map_v1.monitoring", "kubernetes_deployment_v1.model", "kubernetes_horizontal_pod_autoscaler_v2.model", "kubernetes_manifest.alerts", "kubernetes_pod_disruption_budget_v1.model", "kubernetes_service_v1.model"},
		"batch":     {"kubernetes_config_map_v1.monitoring", "kubernetes_cron_job_v1.model", "kubernetes_manifest.alerts"},
		"streaming": {"kubernetes_config_map_v1.monitoring", "kubernetes_deployment_v1.model", "kubernetes_manifest.alerts"},
		"shared":    {"kubernetes_config_map_v1.data_sources", "kubernetes_config_map_v1.platform", "kubernetes_limit_range_v1.env", "kubernetes_namespace_v1.env"},
	}
	for kind, res := range want {
		mod, diags := tfconfig.LoadModule(path.Join("kubernetes", kind))
		if diags.HasErrors() {
			t.Fatal(diags.Err())
		}
		var got []string
		for addr := range mod.ManagedResources {
			got = append(got, addr)
		}
		sort.Strings(got)
		if diff := cmp.Diff(res, got); diff != "" {
			t.Errorf("kubernetes/%s resources (-want +got):\n%s", kind, diff)
		}
		p, ok := mod.RequiredProviders["kubernetes"]
		if !ok || p.Source != "hashicorp/kubernetes" {
			t.Errorf("kubernetes/%s: required provider = %+v, want hashicorp/kubernetes", kind, p)
		}
	}
}

// TestLocalUsesBuiltinOnly makes sure the local target needs no provider
// download: it may only use the built-in terraform_data.
func TestLocalUsesBuiltinOnly(t *testing.T) {
	for _, kind := range desired.Kinds {
		mod, diags := tfconfig.LoadModule(path.Join("local", kind))
		if diags.HasErrors() {
			t.Fatal(diags.Err())
		}
		for addr, r := range mod.ManagedResources {
			if r.Type != "terraform_data" {
				t.Errorf("local/%s: %s is not terraform_data", kind, addr)
			}
		}
		for name := range mod.RequiredProviders {
			// tfconfig infers "terraform" from terraform_data: the built-in provider.
			if name != "terraform" {
				t.Errorf("local/%s requires provider %q", kind, name)
			}
		}
	}
}

// TestFormat runs the real `terraform fmt -check` over every module.
func TestFormat(t *testing.T) {
	bin, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("terraform not on PATH")
	}
	cmd := exec.CommandContext(context.Background(), bin, "fmt", "-check", "-recursive", "-diff", ".")
	cmd.Env = append(cmd.Environ(), "CHECKPOINT_DISABLE=1", "TF_CLI_CONFIG_FILE=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("terraform fmt -check: %v\n%s", err, out)
	}
}

// TestEmbedded makes sure every module file is in the embedded tree.
func TestEmbedded(t *testing.T) {
	for _, target := range modules.Targets {
		for _, kind := range desired.Kinds {
			for _, f := range []string{"main.tf", "variables.tf"} {
				if _, err := modules.FS.Open(path.Join(target, kind, f)); err != nil {
					t.Errorf("embedded %s/%s/%s: %v", target, kind, f, err)
				}
			}
		}
	}
}
