package desired_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/desired"
	"github.com/slipway-ml/slipway/internal/spec"
)

func load(t *testing.T) *spec.Platform {
	t.Helper()
	p, err := spec.Load(context.Background(), "testdata/small")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStacks(t *testing.T) {
	p := load(t)
	var ids []string
	for _, s := range desired.Stacks(p) {
		ids = append(ids, s.ID())
	}
	want := []string{"staging/_shared", "staging/nightly", "staging/scorer", "staging/stream", "production/_shared", "production/scorer", "production/stream"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("stacks (-want +got):\n%s", diff)
	}
	ids = nil
	for _, s := range desired.Stacks(p, "production") {
		ids = append(ids, s.ID())
	}
	if diff := cmp.Diff(want[4:], ids); diff != "" {
		t.Errorf("production stacks (-want +got):\n%s", diff)
	}
}

func TestDeployment(t *testing.T) {
	p := load(t)
	m := p.Models["nightly"]
	m.Deployment.Resolved.Resources.CPU = 3
	p.Models["nightly"] = m
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	want := &desired.Deployment{
		Kind: "batch", Model: "nightly", ModelVersion: "1.0.0", Environment: "staging", Namespace: "staging",
		Owner: "ml@example.com", ArtifactURI: "s3://models/nightly/1.0.0/model.onnx",
		ArtifactDigest: "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ArtifactFormat: "onnx",
		Resources: desired.Resources{CPU: 3, MemoryMiB: 4096},
		Labels:    map[string]string{"owner": "ml@example.com", "model": "nightly", "version": "1.0.0", "environment": "staging"},
		DataSources: []desired.DataSourceRef{
			{Name: "applications", Version: "sha256:3277c0eec783ea4e1ab363f4bec44944cc507f221b44110c72ef3b8462ac30f1"},
			{Name: "gold", Version: "sha256:68c90e635f140e4787f5af6cc191d7449637463f518c7d10a014243187825e5b"},
		},
		Alerts:     []desired.Alert{{Name: "high-latency", Condition: "p99_latency_ms > 300", Expr: "p99_latency_ms > 300", Severity: "page", Metrics: []string{"p99_latency_ms"}}},
		SLOs:       []desired.SLO{{Name: "availability", Objective: 0.99, Window: "30d"}},
		Monitoring: desired.Monitoring{Schedule: "0 * * * *", DriftFeatures: []string{"income"}, DriftMetric: "psi", DriftThreshold: 0.2},
		Logging:    desired.Logging{Predictions: true, RetentionDays: 90, SampleRate: 1},
		OnCall:     "ml-oncall", RollbackStrategy: "previous-version",
		Schedule: str("0 2 * * *"), WaitFor: str("applications"), Timeout: str("2h"), Retries: num(2),
	}
	if diff := cmp.Diff(want, desired.NewDeployment(p, p.Models["nightly"], "staging")); diff != "" {
		t.Errorf("batch deployment (-want +got):\n%s", diff)
	}
	online := desired.NewDeployment(p, p.Models["scorer"], "production")
	if diff := cmp.Diff(&desired.Replicas{Min: 2, Max: 4}, online.Replicas); diff != "" {
		t.Error(diff)
	}
	if online.Schedule != nil || online.Parallelism != nil || *online.LatencySLOMs != 200 {
		t.Errorf("online deployment has fields of other kinds: %+v", online)
	}
	stream := desired.NewDeployment(p, p.Models["stream"], "staging")
	if stream.Parallelism == nil || *stream.Parallelism != 2 || *stream.ConsumerGroup != "scorers" || stream.Replicas != nil {
		t.Errorf("streaming deployment: %+v", stream)
	}
}

func TestShared(t *testing.T) {
	p := load(t)
	stacks := desired.EnvironmentStacks(p, "production")
	if stacks[0].Name != desired.SharedStack || stacks[0].Deployment() != nil {
		t.Fatalf("first stack = %+v, want the shared one", stacks[0])
	}
	got := stacks[0].Modules[0].Inputs.(*desired.Shared)
	if diff := cmp.Diff(desired.Limits{CPU: 4, MemoryMiB: 8192, Replicas: 10}, got.Limits); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"scorer", "stream"}, got.Models); diff != "" {
		t.Error(diff)
	}
	if len(got.DataSources) != 2 || got.DataSources[0].Name != "applications" || got.DataSources[0].Classification != "confidential" {
		t.Errorf("data sources = %+v", got.DataSources)
	}
}
