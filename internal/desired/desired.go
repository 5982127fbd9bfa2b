// Package desired turns a validated platform into the Terraform stacks that
// should exist: one per (environment, model) and one per environment for
// shared infrastructure. It is pure: it reads nothing but its arguments, so
// the same specs always give the same stacks.
package desired

import (
	"sort"

	"github.com/slipway-ml/slipway/internal/alerting"
	"github.com/slipway-ml/slipway/internal/spec"
)

// SharedStack is the name of each environment's shared stack.
const SharedStack = "_shared"

// Stack is one Terraform root module Slipway manages.
type Stack struct {
	// Environment and Name identify the stack; Name is the model's name or
	// SharedStack.
	Environment string
	Name        string
	// Model is empty for the shared stack.
	Model string
	// Template is the deployment template the model uses.
	Template string
	// Target is the environment's target: "local" or "kubernetes".
	Target string
	// Backend is where the stack's state lives.
	Backend spec.State
	// Kubernetes holds the environment's cluster settings on that target.
	Kubernetes *spec.Kubernetes
	// Reads lists the data sources the stack's model reads, sorted.
	Reads []string
	// Modules are the module calls of the stack, in render order.
	Modules []ModuleCall
}

// ID is the stack's full name, "<env>/<name>".
func (s Stack) ID() string { return s.Environment + "/" + s.Name }

// Deployment returns the inputs of the stack's model deployment, or nil for
// a shared stack.
func (s Stack) Deployment() *Deployment {
	for _, m := range s.Modules {
		if d, ok := m.Inputs.(*Deployment); ok {
			return d
		}
	}
	return nil
}

// ModuleCall is one call of an embedded module.
type ModuleCall struct {
	// Name is the call's name in the root module, e.g. "deployment".
	Name string
	// Module is the embedded module's directory under the target, which is
	// the template kind for deployments and "shared" for shared stacks.
	Module string
	// Inputs are the module's variables: *Deployment or *Shared. Their JSON
	// form is what Slipway renders.
	Inputs any
}

// Module kinds beside the template kinds.
const (
	KindShared = "shared"
)

// BlueGreen is the rollback strategy whose state is not a function of the
// specs alone: the idle slot keeps the version before the live one.
const BlueGreen = "blue-green"

// Kinds lists every module each target provides.
var Kinds = []string{"batch", "online", "shared", "streaming"}

// Deployment is the contract of a model deployment module: the same inputs
// on every target. Fields of other template kinds are nil and not rendered.
type Deployment struct {
	Kind           string            `json:"kind"`
	Model          string            `json:"model"`
	ModelVersion   string            `json:"model_version"`
	Environment    string            `json:"environment"`
	Namespace      string            `json:"namespace"`
	Owner          string            `json:"owner"`
	ArtifactURI    string            `json:"artifact_uri"`
	ArtifactDigest string            `json:"artifact_digest"`
	ArtifactFormat string            `json:"artifact_format"`
	Resources      Resources         `json:"resources"`
	Labels         map[string]string `json:"labels"`
	DataSources    []DataSourceRef   `json:"data_sources"`
	Alerts         []Alert           `json:"alerts"`
	SLOs           []SLO             `json:"slos"`
	Monitoring     Monitoring        `json:"monitoring"`
	Logging        Logging           `json:"logging"`
	OnCall         string            `json:"on_call"`
	// RollbackStrategy is the handover's rollback strategy; the local
	// modules keep the state it rolls back (the serving version, the canary
	// weight, the blue-green slots), so a rehearsal changes state drift
	// can see.
	RollbackStrategy string `json:"rollback_strategy"`

	// online and streaming
	Health *Health `json:"health,omitempty"`

	// online
	Replicas     *Replicas `json:"replicas,omitempty"`
	LatencySLOMs *int      `json:"latency_slo_ms,omitempty"`
	Rollout      *Rollout  `json:"rollout,omitempty"`

	// batch
	Schedule *string `json:"schedule,omitempty"`
	WaitFor  *string `json:"wait_for,omitempty"`
	Timeout  *string `json:"timeout,omitempty"`
	Retries  *int    `json:"retries,omitempty"`

	// streaming
	InputTopic    *string `json:"input_topic,omitempty"`
	OutputTopic   *string `json:"output_topic,omitempty"`
	ConsumerGroup *string `json:"consumer_group,omitempty"`
	Parallelism   *int    `json:"parallelism,omitempty"`
}

// Resources is what one replica or job requests.
type Resources struct {
	CPU       float64 `json:"cpu"`
	MemoryMiB int     `json:"memory_mib"`
}

// Replicas bounds an online deployment's scaling.
type Replicas struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// Rollout is a progressive traffic shift.
type Rollout struct {
	Steps        []int `json:"steps"`
	PauseSeconds int   `json:"pause_seconds"`
}

// DataSourceRef pins a data source a model reads to its declared version.
type DataSourceRef struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Alert is a monitoring alert rule from the handover.
type Alert struct {
	Name      string `json:"name"`
	Condition string `json:"condition"`
	// Expr is the condition as the PromQL parser read it, in Prometheus's
	// canonical form; the condition as written when it does not parse
	// (handover.alert_conditions denies that).
	Expr     string `json:"expr"`
	Severity string `json:"severity"`
	// Metrics are the metric names the condition reads.
	Metrics []string `json:"metrics"`
}

// Health is a serving deployment's readiness and liveness checks; a
// missing check is null (handover.health_checks denies it).
type Health struct {
	Readiness *Probe `json:"readiness"`
	Liveness  *Probe `json:"liveness"`
}

// Probe is one health check: an HTTP path or a command.
type Probe struct {
	Path             *string  `json:"path"`
	Command          []string `json:"command"`
	PeriodSeconds    int      `json:"period_seconds"`
	FailureThreshold int      `json:"failure_threshold"`
}

func newAlert(a spec.Alert) Alert {
	out := Alert{Name: a.Name, Condition: a.Condition, Expr: a.Condition, Severity: a.Severity, Metrics: []string{}}
	if x, err := alerting.Parse(a.Condition); err == nil {
		out.Expr, out.Metrics = x.String(), x.Metrics()
	}
	return out
}

func newHealth(h *spec.Health) *Health {
	out := &Health{}
	if h == nil {
		return out
	}
	probe := func(p *spec.Probe) *Probe {
		if p == nil {
			return nil
		}
		q := &Probe{PeriodSeconds: p.PeriodSeconds, FailureThreshold: p.FailureThreshold}
		if p.Path != "" {
			q.Path = &p.Path
		}
		if len(p.Command) > 0 {
			q.Command = p.Command
		}
		return q
	}
	out.Readiness, out.Liveness = probe(h.Readiness), probe(h.Liveness)
	return out
}

// SLO is a service level objective from the handover.
type SLO struct {
	Name      string  `json:"name"`
	Objective float64 `json:"objective"`
	Window    string  `json:"window"`
}

// Monitoring is the model's drift monitoring.
type Monitoring struct {
	Schedule       string   `json:"schedule"`
	DriftFeatures  []string `json:"drift_features"`
	DriftMetric    string   `json:"drift_metric"`
	DriftThreshold float64  `json:"drift_threshold"`
}

// Logging says whether predictions are logged and for how long.
type Logging struct {
	Predictions   bool    `json:"predictions"`
	RetentionDays int     `json:"retention_days"`
	SampleRate    float64 `json:"sample_rate"`
}

// Shared is the contract of the shared module: what every model of an
// environment relies on.
type Shared struct {
	Platform    string            `json:"platform"`
	Environment string            `json:"environment"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels"`
	Limits      Limits            `json:"limits"`
	Models      []string          `json:"models"`
	DataSources []SharedSource    `json:"data_sources"`
}

// Limits bound one deployment in the environment; zero means unbounded.
type Limits struct {
	CPU       float64 `json:"cpu"`
	MemoryMiB int     `json:"memory_mib"`
	Replicas  int     `json:"replicas"`
}

// SharedSource registers a data source the environment's models read.
type SharedSource struct {
	Name           string `json:"name"`
	Kind           string `json:"kind"`
	Location       string `json:"location"`
	Format         string `json:"format"`
	Version        string `json:"version"`
	Classification string `json:"classification"`
	Owner          string `json:"owner"`
}

// Stacks returns every stack of the platform in the given environments (all
// when envs is empty), ordered by environment promotion order, then with the
// shared stack first and models by name.
func Stacks(p *spec.Platform, envs ...string) []Stack {
	want := map[string]bool{}
	for _, e := range envs {
		want[e] = true
	}
	var out []Stack
	for _, env := range p.EnvironmentNames() {
		if len(want) > 0 && !want[env] {
			continue
		}
		out = append(out, EnvironmentStacks(p, env)...)
	}
	return out
}

// EnvironmentStacks returns the stacks of one environment: its shared stack
// and one per model deployed there.
func EnvironmentStacks(p *spec.Platform, env string) []Stack {
	e := p.Environments[env]
	var models []string
	reads := map[string]bool{}
	for _, name := range p.ModelNames() {
		m := p.Models[name]
		if !deployedIn(m, env) {
			continue
		}
		models = append(models, name)
		for _, r := range Reads(p, m) {
			reads[r] = true
		}
	}
	shared := &Shared{
		Platform:    p.Name,
		Environment: env,
		Namespace:   namespace(e),
		Labels:      map[string]string{"environment": env, "platform": p.Name},
		Models:      nonNil(models),
		DataSources: []SharedSource{},
	}
	if e.Limits != nil {
		shared.Limits = Limits{CPU: e.Limits.CPU, MemoryMiB: e.Limits.MemoryMiB, Replicas: e.Limits.Replicas}
	}
	for _, name := range sortedSet(reads) {
		ds := p.DataSources[name]
		shared.DataSources = append(shared.DataSources, SharedSource{
			Name: name, Kind: ds.Kind, Location: ds.Location, Format: ds.Format,
			Version: ds.Version, Classification: ds.Classification, Owner: ds.Owner,
		})
	}
	out := []Stack{{
		Environment: env,
		Name:        SharedStack,
		Target:      e.Target,
		Backend:     e.State,
		Kubernetes:  e.K8s,
		Reads:       sortedSet(reads),
		Modules:     []ModuleCall{{Name: "shared", Module: KindShared, Inputs: shared}},
	}}
	for _, name := range models {
		m := p.Models[name]
		out = append(out, Stack{
			Environment: env,
			Name:        name,
			Model:       name,
			Template:    m.Deployment.Template,
			Target:      e.Target,
			Backend:     e.State,
			Kubernetes:  e.K8s,
			Reads:       Reads(p, m),
			Modules:     []ModuleCall{{Name: "deployment", Module: m.Deployment.Resolved.Kind, Inputs: NewDeployment(p, m, env)}},
		})
	}
	return out
}

func deployedIn(m spec.Model, env string) bool {
	for _, e := range m.Environments {
		if e == env {
			return true
		}
	}
	return false
}

// Reads returns the data sources a model reads, sorted: its training data,
// its gold evaluation data and the source a batch job waits for.
func Reads(p *spec.Platform, m spec.Model) []string {
	set := map[string]bool{}
	for _, d := range m.Training.Data {
		set[d] = true
	}
	if m.Evaluation.Data != "" {
		set[m.Evaluation.Data] = true
	}
	if w := m.Deployment.Resolved.WaitFor; w != "" {
		set[w] = true
	}
	for k := range set {
		if _, ok := p.DataSources[k]; !ok {
			delete(set, k)
		}
	}
	return sortedSet(set)
}

// NewDeployment returns the deployment inputs of model m in environment env.
func NewDeployment(p *spec.Platform, m spec.Model, env string) *Deployment {
	t := m.Deployment.Resolved
	e := p.Environments[env]
	d := &Deployment{
		Kind:           t.Kind,
		Model:          m.Name,
		ModelVersion:   m.Version,
		Environment:    env,
		Namespace:      namespace(e),
		Owner:          m.Owner,
		ArtifactURI:    m.Artifact.URI,
		ArtifactDigest: m.Artifact.Digest,
		ArtifactFormat: m.Artifact.Format,
		Resources:      Resources{CPU: t.Resources.CPU, MemoryMiB: t.Resources.MemoryMiB},
		Labels: map[string]string{
			"owner":       m.Owner,
			"model":       m.Name,
			"version":     m.Version,
			"environment": env,
		},
		DataSources: []DataSourceRef{},
		Alerts:      []Alert{},
		SLOs:        []SLO{},
		Monitoring: Monitoring{
			Schedule:       m.Monitoring.Schedule,
			DriftFeatures:  nonNil(m.Monitoring.Drift.Features),
			DriftMetric:    m.Monitoring.Drift.Metric,
			DriftThreshold: m.Monitoring.Drift.Threshold,
		},
		Logging: Logging{
			Predictions:   m.Handover.Logging.Predictions,
			RetentionDays: m.Handover.Logging.RetentionDays,
			SampleRate:    m.Handover.Logging.SampleRate,
		},
		OnCall:           m.Handover.OnCall.Team,
		RollbackStrategy: m.Handover.Rollback.Strategy,
	}
	for _, r := range Reads(p, m) {
		d.DataSources = append(d.DataSources, DataSourceRef{Name: r, Version: p.DataSources[r].Version})
	}
	for _, a := range m.Handover.Alerts {
		d.Alerts = append(d.Alerts, newAlert(a))
	}
	for _, s := range m.Handover.SLOs {
		d.SLOs = append(d.SLOs, SLO{Name: s.Name, Objective: s.Objective, Window: s.Window})
	}
	switch t.Kind {
	case "online":
		d.Health = newHealth(t.Health)
		d.Replicas = &Replicas{}
		if t.Replicas != nil {
			d.Replicas = &Replicas{Min: t.Replicas.Min, Max: t.Replicas.Max}
		}
		d.LatencySLOMs = ptr(t.LatencySLOMs)
		d.Rollout = &Rollout{Steps: []int{}}
		if t.Rollout != nil {
			d.Rollout = &Rollout{Steps: nonNil(t.Rollout.Steps), PauseSeconds: t.Rollout.PauseSeconds}
		}
	case "batch":
		d.Schedule = ptr(t.Schedule)
		d.WaitFor = ptr(t.WaitFor)
		d.Timeout = ptr(t.Timeout)
		d.Retries = ptr(t.Retries)
	case "streaming":
		d.Health = newHealth(t.Health)
		d.InputTopic = ptr(t.InputTopic)
		d.OutputTopic = ptr(t.OutputTopic)
		d.ConsumerGroup = ptr(t.ConsumerGroup)
		d.Parallelism = ptr(t.Parallelism)
	}
	return d
}

// namespace is where an environment's workloads live: the kubernetes
// namespace on that target, the environment's name elsewhere.
func namespace(e spec.Environment) string {
	if e.K8s != nil && e.K8s.Namespace != "" {
		return e.K8s.Namespace
	}
	return e.Name
}

func ptr[T any](v T) *T { return &v }

// nonNil keeps empty lists rendering as [] rather than null, which module
// variables of list type would reject.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
