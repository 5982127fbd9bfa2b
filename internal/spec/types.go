package spec

import (
	"encoding/json"

	"github.com/slipway-ml/slipway/internal/checkresult"
)

// Platform is a validated platform repository: every environment, data
// source, template and model, with cross-references checked.
type Platform struct {
	// Root is the absolute path of the repository.
	Root         string                 `json:"-"`
	Name         string                 `json:"name"`
	Policy       PolicyDefaults         `json:"policy"`
	Environments map[string]Environment `json:"environments"`
	DataSources  map[string]DataSource  `json:"dataSources"`
	Templates    map[string]Template    `json:"templates"`
	Models       map[string]Model       `json:"models"`
	Waivers      []Waiver               `json:"waivers"`
	TrustedKeys  []TrustedKey           `json:"trustedKeys"`

	// Files lists every CUE file of the platform, repo-relative and sorted.
	Files []string `json:"-"`
	st    *posIndex
}

// PolicyDefaults are platform-wide thresholds that apply where a model sets none.
type PolicyDefaults struct {
	MinGroupSize           int                  `json:"minGroupSize"`
	BaselineTolerance      float64              `json:"baselineTolerance"`
	ImbalancedPositiveRate float64              `json:"imbalancedPositiveRate"`
	Fairness               map[string]Threshold `json:"fairness"`
	DriftThreshold         float64              `json:"driftThreshold"`
	RunbookSections        []string             `json:"runbookSections"`
	MaxPredictionLogDays   int                  `json:"maxPredictionLogDays"`
	RunbookMinWords        int                  `json:"runbookMinWords"`
	// Timeout bounds the policy evaluation of one unit, a Go duration
	// such as "10s"; running past it is a policy.error denial.
	Timeout string `json:"timeout"`
	// RollbackRehearsalDays is how recent a rollback rehearsal must be for
	// handover.rollback_tested.
	RollbackRehearsalDays int `json:"rollbackRehearsalDays"`
	// SecurityOwners are GitHub logins and @org/team teams whose approval
	// lifts release.trust_changed.
	SecurityOwners []string `json:"securityOwners"`
	// TrustRepositoryControls lets repository rules make a framework
	// item covered in the audit report.
	TrustRepositoryControls bool `json:"trustRepositoryControls"`
	// DecideOn is "estimate" or "interval" for thresholds that set none;
	// empty: interval in protected environments, estimate elsewhere.
	DecideOn string `json:"decideOn,omitempty"`
	// MinGoldCoverage is the least share of gold rows predicted.
	// A pointer, so that an explicit 0 (no coverage required) is kept
	// apart from unset (the policy's default, all rows).
	MinGoldCoverage *float64 `json:"minGoldCoverage,omitempty"`
	// RiskOwners are GitHub logins and @org/team teams whose approval
	// lifts policy.threshold_loosened.
	RiskOwners []string `json:"riskOwners,omitempty"`
}

// Environment is a deployment target a model version is promoted through.
type Environment struct {
	Name      string      `json:"name"`
	Target    string      `json:"target"`
	State     State       `json:"state"`
	Approvals int         `json:"approvals"`
	After     string      `json:"after,omitempty"`
	Protected bool        `json:"protected"`
	Limits    *Limits     `json:"limits,omitempty"`
	K8s       *Kubernetes `json:"kubernetes,omitempty"`
}

// State selects the Terraform state backend of an environment.
type State struct {
	Backend    string `json:"backend"`
	ConnEnv    string `json:"connEnv,omitempty"`
	SchemaName string `json:"schemaName,omitempty"`
	// ConnectTimeout and StatementTimeout bound the pg backend's
	// connections and statements (Go durations, e.g. "10s").
	ConnectTimeout   string `json:"connectTimeout,omitempty"`
	StatementTimeout string `json:"statementTimeout,omitempty"`
}

// Limits bound what one deployment may request in an environment.
type Limits struct {
	CPU       float64 `json:"cpu,omitempty"`
	MemoryMiB int     `json:"memoryMiB,omitempty"`
	Replicas  int     `json:"replicas,omitempty"`
}

// Kubernetes holds settings for the kubernetes target.
type Kubernetes struct {
	Namespace string `json:"namespace"`
	Context   string `json:"context,omitempty"`
}

// DataSource is a dataset a model trains on, is evaluated on or reads.
type DataSource struct {
	Name           string   `json:"name"`
	Owner          string   `json:"owner"`
	Kind           string   `json:"kind"`
	Location       string   `json:"location"`
	Format         string   `json:"format"`
	Schema         []Field  `json:"schema"`
	Classification string   `json:"classification"`
	PII            []string `json:"pii"`
	Version        string   `json:"version"`
	Quality        *Quality `json:"quality,omitempty"`
	Snapshot       string   `json:"snapshot,omitempty"`
	Refresh        string   `json:"refresh,omitempty"`
	Description    string   `json:"description,omitempty"`
}

// Field is one column of a data source's declared schema.
type Field struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Nullable    bool   `json:"nullable"`
	Allowed     []any  `json:"allowed,omitempty"`
	Range       *Range `json:"range,omitempty"`
	Description string `json:"description,omitempty"`
}

// Range bounds a numeric field; nil ends are open.
type Range struct {
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
}

// Quality lists the expectations a data source's snapshot must meet.
type Quality struct {
	Completeness     map[string]float64 `json:"completeness,omitempty"`
	UniqueKeys       []string           `json:"uniqueKeys,omitempty"`
	Freshness        *Freshness         `json:"freshness,omitempty"`
	MaxDuplicateRows *float64           `json:"maxDuplicateRows,omitempty"`
	// MinRows is the fewest rows the snapshot may have.
	MinRows int64 `json:"minRows,omitempty"`
	// MinRowsPer is, per column, the fewest rows each of its values (a
	// class of the label, a group of a sensitive attribute) may have.
	MinRowsPer map[string]int64 `json:"minRowsPer,omitempty"`
}

// Freshness bounds the age of the newest record.
type Freshness struct {
	Field  string `json:"field"`
	MaxAge string `json:"maxAge"`
}

// Template is a standard deployment shape; Kind says which fields apply.
type Template struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // batch, online or streaming

	// batch
	Schedule string `json:"schedule,omitempty"`
	WaitFor  string `json:"waitFor,omitempty"`
	Timeout  string `json:"timeout,omitempty"`
	Retries  int    `json:"retries,omitempty"`

	// online
	Replicas     *Replicas `json:"replicas,omitempty"`
	LatencySLOMs int       `json:"latencySLOMs,omitempty"`
	Rollout      *Rollout  `json:"rollout,omitempty"`

	// streaming
	InputTopic    string `json:"inputTopic,omitempty"`
	OutputTopic   string `json:"outputTopic,omitempty"`
	ConsumerGroup string `json:"consumerGroup,omitempty"`
	Parallelism   int    `json:"parallelism,omitempty"`

	// online and streaming
	Health *Health `json:"health,omitempty"`

	Resources Resources `json:"resources"`
}

// Health is how the platform tells a serving deployment is ready for
// traffic and still alive.
type Health struct {
	Readiness *Probe `json:"readiness,omitempty"`
	Liveness  *Probe `json:"liveness,omitempty"`
}

// Probe is one health check: an HTTP GET of Path or a Command run in the
// container, every PeriodSeconds, failing after FailureThreshold misses.
type Probe struct {
	Path             string   `json:"path,omitempty"`
	Command          []string `json:"command,omitempty"`
	PeriodSeconds    int      `json:"periodSeconds"`
	FailureThreshold int      `json:"failureThreshold"`
}

// Replicas bounds an online deployment's horizontal scaling.
type Replicas struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// Rollout is a progressive traffic shift.
type Rollout struct {
	Steps        []int `json:"steps"`
	PauseSeconds int   `json:"pauseSeconds"`
}

// Resources is what one replica or job requests.
type Resources struct {
	CPU       float64 `json:"cpu"`
	MemoryMiB int     `json:"memoryMiB"`
}

// Threshold bounds a metric; nil ends are open.
type Threshold struct {
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// DecideOn is "estimate", "interval" or empty (the platform's or
	// the environment's default).
	DecideOn string `json:"decideOn,omitempty"`
}

// Model is one model and everything needed to judge and deploy it.
type Model struct {
	Name         string      `json:"name"`
	Version      string      `json:"version"`
	Owner        string      `json:"owner"`
	Team         string      `json:"team,omitempty"`
	IntendedUse  IntendedUse `json:"intendedUse"`
	Task         string      `json:"task"`
	Artifact     Artifact    `json:"artifact"`
	Training     Training    `json:"training"`
	Evaluation   Evaluation  `json:"evaluation"`
	Fairness     *Fairness   `json:"fairness,omitempty"`
	Tests        Tests       `json:"tests"`
	Data         *ModelData  `json:"data,omitempty"`
	Deployment   Deployment  `json:"deployment"`
	Monitoring   Monitoring  `json:"monitoring"`
	Handover     Handover    `json:"handover"`
	Environments []string    `json:"environments"`

	// Purpose, Oversight, Instructions and RiskRegister are what only
	// people can state; each names its owner, who declares it.
	Purpose      *Purpose      `json:"purpose,omitempty"`
	Oversight    *Oversight    `json:"oversight,omitempty"`
	Instructions *Instructions `json:"instructions,omitempty"`
	RiskRegister *RiskRegister `json:"riskRegister,omitempty"`

	// Dir is the repo-relative directory of the file that sets the
	// model's name or version; change detection maps paths under it to
	// this model.
	Dir string `json:"-"`
}

// IntendedUse says what the model is for and whom it affects.
type IntendedUse struct {
	Summary       string   `json:"summary"`
	AffectsPeople bool     `json:"affectsPeople"`
	OutOfScope    []string `json:"outOfScope,omitempty"`
}

// Purpose is the intended purpose and the reasonably foreseeable misuse,
// as Owner declares them.
type Purpose struct {
	Owner    string   `json:"owner"`
	Intended string   `json:"intended"`
	Users    []string `json:"users,omitempty"`
	Misuse   []string `json:"misuse"`
}

// Oversight is the human oversight measures, as Owner declares them.
type Oversight struct {
	Owner    string   `json:"owner"`
	Measures []string `json:"measures"`
	// OverrideBy are the roles that may override an output.
	OverrideBy []string `json:"overrideBy"`
	// ReferralRate is the share of decisions expected to reach a person.
	ReferralRate *float64 `json:"referralRate,omitempty"`
	Stop         string   `json:"stop,omitempty"`
}

// Instructions are the instructions for use, as Owner declares them.
type Instructions struct {
	Owner       string   `json:"owner"`
	Document    string   `json:"document,omitempty"`
	Limitations []string `json:"limitations"`
	Inputs      string   `json:"inputs,omitempty"`
	Maintenance string   `json:"maintenance,omitempty"`
}

// RiskRegister is the model's risks and the acceptance of what remains.
type RiskRegister struct {
	Owner      string          `json:"owner"`
	Risks      []Risk          `json:"risks"`
	Acceptance *RiskAcceptance `json:"acceptance,omitempty"`
}

// Risk is one risk, with a mitigation linked to the rules and test suites
// that evidence it.
type Risk struct {
	ID          string     `json:"id"`
	Description string     `json:"description"`
	Likelihood  string     `json:"likelihood"`
	Severity    string     `json:"severity"`
	Mitigation  Mitigation `json:"mitigation"`
}

// Mitigation is how a risk is reduced.
type Mitigation struct {
	Description string   `json:"description"`
	Rules       []string `json:"rules,omitempty"`
	Suites      []string `json:"suites,omitempty"`
}

// RiskAcceptance is a named role accepting the residual risk.
type RiskAcceptance struct {
	Role string `json:"role"`
	By   string `json:"by"`
	Date string `json:"date"`
	Note string `json:"note,omitempty"`
}

// Artifact is the trained model file, pinned by digest.
type Artifact struct {
	URI    string `json:"uri"`
	Digest string `json:"digest"`
	Format string `json:"format"`
}

// Training records what the model was trained on and by which code.
type Training struct {
	Data []string `json:"data"`
	Code CodeRef  `json:"code"`
}

// CodeRef pins training code to a commit.
type CodeRef struct {
	Repo   string `json:"repo"`
	Commit string `json:"commit"`
	Path   string `json:"path,omitempty"`
}

// Evaluation says where the model's predictions on the gold set are and
// what they must achieve.
type Evaluation struct {
	Data        string               `json:"data"`
	Predictions string               `json:"predictions"`
	Columns     Columns              `json:"columns"`
	Positive    any                  `json:"positive,omitempty"`
	Threshold   *float64             `json:"threshold,omitempty"`
	Metrics     map[string]Threshold `json:"metrics"`
	Baseline    *Baseline            `json:"baseline,omitempty"`
}

// Columns maps the predictions file's columns to their roles.
type Columns struct {
	Label      string `json:"label"`
	Prediction string `json:"prediction,omitempty"`
	Score      string `json:"score,omitempty"`
	Weight     string `json:"weight,omitempty"`
}

// Baseline is the metrics of the version being replaced.
type Baseline struct {
	// Release is BaselinePrevious or empty; a baseline with neither
	// Predictions nor Metrics is the previous release. Validation refuses
	// a baseline that sets more than one of the three (baselineSources).
	Release string `json:"release,omitempty"`
	Version string `json:"version,omitempty"`
	// Metrics are typed in: declared, not measured.
	Metrics map[string]float64 `json:"metrics"`
	// Tolerance is nil when the model sets none: the platform's
	// baselineTolerance applies (lib.baseline_tolerance). 0 is a valid,
	// strict setting, so unset is not 0.
	Tolerance *float64 `json:"tolerance,omitempty"`
	// Predictions is the champion's predictions on the same gold set,
	// which Slipway evaluates as the baseline.
	Predictions string `json:"predictions,omitempty"`
}

// BaselinePrevious names the model's last verified release in the same
// environment as its baseline.
const BaselinePrevious = "previous"

// Fairness lists the sensitive attributes and the bounds on their gaps.
type Fairness struct {
	Sensitive      []string          `json:"sensitive"`
	Intersectional bool              `json:"intersectional"`
	ReferenceGroup map[string]string `json:"referenceGroup,omitempty"`
	// MinGroupSize is 0 when the model sets none (the schema wants > 0):
	// the platform's minGroupSize applies (Model.MinGroupSize).
	MinGroupSize int                  `json:"minGroupSize,omitempty"`
	Thresholds   map[string]Threshold `json:"thresholds"`
}

// Tests points at the model's JUnit reports.
type Tests struct {
	Reports        []string `json:"reports"`
	RequiredSuites []string `json:"requiredSuites"`
}

// ModelData names the snapshots checked for drift and the model's features.
type ModelData struct {
	Reference string   `json:"reference,omitempty"`
	Current   string   `json:"current,omitempty"`
	Features  []string `json:"features,omitempty"`
}

// Deployment is the model's template with its parameters applied.
type Deployment struct {
	Template   string         `json:"template"`
	Parameters map[string]any `json:"parameters"`
	// Resolved is the template after the parameters were applied and the
	// result validated again against the template kind's schema.
	Resolved Template `json:"resolved"`
}

// Monitoring configures drift detection in production.
type Monitoring struct {
	Schedule string `json:"schedule"`
	Drift    Drift  `json:"drift"`
	// Slack is how late a scheduled run may be, a duration such as 1h.
	Slack string `json:"slack,omitempty"`
	// MinRows is the fewest rows a window's figures need to decide.
	MinRows int               `json:"minRows,omitempty"`
	Source  *MonitoringSource `json:"source,omitempty"`
	Retrain *Retrain          `json:"retrain,omitempty"`
}

// MonitoringSource is where production prediction logs live: a
// PostgreSQL table (Kind "postgres") or partitioned files (Kind "files").
type MonitoringSource struct {
	Kind string `json:"kind"`
	// ConnEnv names the environment variable holding the connection
	// string (postgres).
	ConnEnv string `json:"connEnv,omitempty"`
	// Table is the log table (postgres); Path the files' glob (files).
	Table      string    `json:"table,omitempty"`
	Path       string    `json:"path,omitempty"`
	Timestamp  string    `json:"timestamp"`
	ID         string    `json:"id"`
	Version    string    `json:"version"`
	Features   []string  `json:"features"`
	Prediction string    `json:"prediction,omitempty"`
	Score      string    `json:"score,omitempty"`
	Outcomes   *Outcomes `json:"outcomes,omitempty"`
}

// Outcomes are the delayed labels of logged requests, joined on ID.
type Outcomes struct {
	Table string `json:"table,omitempty"`
	Path  string `json:"path,omitempty"`
	ID    string `json:"id"`
	Label string `json:"label"`
}

// Retrain bounds a release's age.
type Retrain struct {
	MaxAgeDays int `json:"maxAgeDays"`
}

// Drift names the features watched and the bound on their drift.
type Drift struct {
	Features  []string `json:"features"`
	Metric    string   `json:"metric"`
	Threshold float64  `json:"threshold"`
}

// Handover is what the operations team needs before taking a model over.
type Handover struct {
	Runbook     string      `json:"runbook"`
	OnCall      OnCall      `json:"onCall"`
	SupportPlan SupportPlan `json:"supportPlan"`
	SLOs        []SLO       `json:"slos"`
	Alerts      []Alert     `json:"alerts"`
	Logging     Logging     `json:"logging"`
	ErrorTypes  []ErrorType `json:"errorTypes"`
	Rollback    Rollback    `json:"rollback"`
	Acceptance  *Acceptance `json:"acceptance,omitempty"`
}

// OnCall names who is paged.
type OnCall struct {
	Team       string `json:"team"`
	Rotation   string `json:"rotation,omitempty"`
	Escalation string `json:"escalation,omitempty"`
}

// SupportPlan says who supports the model and when.
type SupportPlan struct {
	Tier    string `json:"tier"`
	Contact string `json:"contact"`
	Until   string `json:"until,omitempty"`
}

// SLO is a service level objective over a window.
type SLO struct {
	Name      string  `json:"name"`
	Objective float64 `json:"objective"`
	Window    string  `json:"window"`
	// Metric is the Prometheus metric the objective is measured on; an
	// alert must read it.
	Metric string `json:"metric,omitempty"`
}

// Alert is a monitoring alert rule.
type Alert struct {
	Name      string `json:"name"`
	Condition string `json:"condition"`
	Severity  string `json:"severity"`
}

// Logging says whether and how long predictions are kept.
type Logging struct {
	Predictions   bool    `json:"predictions"`
	RetentionDays int     `json:"retentionDays"`
	Destination   string  `json:"destination,omitempty"`
	SampleRate    float64 `json:"sampleRate"`
}

// ErrorType is a documented failure mode and what to do about it.
type ErrorType struct {
	Code        string `json:"code"`
	Description string `json:"description"`
	Action      string `json:"action"`
}

// Rollback is how a bad release is undone. Whether it was rehearsed is
// read from the ledger's rollback records; Tested and TestedOn are only
// declared, so they are ignored (Warnings says so).
type Rollback struct {
	Strategy string `json:"strategy"`
	Tested   bool   `json:"tested,omitempty"`
	TestedOn string `json:"testedOn,omitempty"`
}

// Acceptance names the operations team asked to take the model over; its
// acceptance is a member's approving review (handover.acceptance), so By
// and Date are not evidence.
type Acceptance struct {
	Team   string `json:"team"`
	By     string `json:"by,omitempty"`
	Date   string `json:"date,omitempty"`
	Ticket string `json:"ticket,omitempty"`
}

// Waiver excuses a model from a rule in an environment until it expires.
type Waiver struct {
	Rule        string `json:"rule"`
	Model       string `json:"model"`
	Environment string `json:"environment"`
	Reason      string `json:"reason"`
	ApprovedBy  string `json:"approvedBy,omitempty"`
	Expires     string `json:"expires"`
	Ticket      string `json:"ticket"`
	// Pos is where the waiver is written.
	Pos Position `json:"-"`
}

// Document is the waiver as the check result document and the policy
// engine's findings record it: the same fields, without where it is
// written.
func (w Waiver) Document() checkresult.Waiver {
	return checkresult.Waiver{Rule: w.Rule, Model: w.Model, Environment: w.Environment, Reason: w.Reason,
		ApprovedBy: w.ApprovedBy, Expires: w.Expires, Ticket: w.Ticket}
}

// TrustedKey is a public key whose release signatures are trusted.
type TrustedKey struct {
	ID        string `json:"id"`
	PublicKey string `json:"publicKey,omitempty"`
	Path      string `json:"path,omitempty"`
}

// RawJSON returns v as JSON; spec values always marshal.
func RawJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
