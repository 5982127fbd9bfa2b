// Package report builds Slipway's audit report: for any model and period,
// what is in production, on what evidence, judged by which rules, signed
// and approved by whom, with which exceptions, and where the control gaps
// are. Figures come only from verified release records ("signed") or from
// evidence files whose digest the verified record pins ("evidence"); each
// figure says which. The report renders as JSON (docs/report-schema.json),
// GitHub Markdown and one self-contained HTML file, byte for byte the same
// for the same repository, ledger and clock.
package report

// SchemaVersion names the JSON report's format; docs/report-schema.json
// describes it.
const SchemaVersion = "https://slipway.dev/report/v1"

// Sources of a figure.
const (
	// SourceSigned: read from a verified, signed release record.
	SourceSigned = "signed"
	// SourceEvidence: read from an evidence file whose sha256 the
	// verified release record pins.
	SourceEvidence = "evidence"
	// SourceSpec: read from the platform spec as it is now; used only for
	// descriptions the release record does not carry (data source
	// metadata, waivers not yet signed into a release).
	SourceSpec = "spec"
)

// Coverage statuses.
const (
	// StatusCovered: a rule serving the item passed in a verified release.
	StatusCovered = "covered"
	// StatusException: the rules serving the item were waived or warned.
	StatusException = "exception"
	// StatusGap: no verified release holds a result of a rule serving the
	// item, or no rule serves it.
	StatusGap = "gap"
	// StatusNotApplicable: the rules that may carry the item said they
	// had nothing to judge; not covered.
	StatusNotApplicable = "not applicable"
)

// OutcomeNotApplicable is the outcome of a rule that found nothing to
// judge: it never covers an item.
const OutcomeNotApplicable = "not_applicable"

// Waiver statuses as the report shows them.
const (
	WaiverActive     = "active"
	WaiverExpiring   = "expiring"
	WaiverExpired    = "expired"
	WaiverUnapproved = "unapproved"
)

// ExpiringWithinDays is how soon before its expiry a waiver is flagged.
const ExpiringWithinDays = 30

// Report is the whole audit report.
type Report struct {
	Schema         string `json:"schema"`
	GeneratedAt    string `json:"generated_at"`
	SlipwayVersion string `json:"slipway_version"`
	Platform       string `json:"platform"`
	Scope          Scope  `json:"scope"`
	// Environments in promotion order.
	Environments []string       `json:"environments"`
	Ledger       LedgerStatus   `json:"ledger"`
	Summary      Summary        `json:"summary"`
	Portfolio    []PortfolioRow `json:"portfolio"`
	Waivers      []WaiverRow    `json:"waivers"`
	Failed       []ReleaseRow   `json:"failed_releases"`
	Coverage     []Framework    `json:"coverage"`
	Models       []Dossier      `json:"models"`
	Sources      []SourceLegend `json:"sources"`
}

// Scope is what the report was asked for.
type Scope struct {
	Model       string `json:"model,omitempty"`
	Environment string `json:"environment,omitempty"`
	Since       string `json:"since,omitempty"`
	Until       string `json:"until,omitempty"`
}

// SourceLegend explains one value of a figure's source.
type SourceLegend struct {
	Source  string `json:"source"`
	Meaning string `json:"meaning"`
}

// LedgerStatus is the outcome of verifying the release ledger.
type LedgerStatus struct {
	OK bool `json:"ok"`
	// Head is the digest of the index's last line.
	Head     string   `json:"head,omitempty"`
	Records  int      `json:"records"`
	Verified int      `json:"verified"`
	Failed   int      `json:"failed"`
	Keys     []string `json:"keys"`
	// Fingerprints are the trusted keys by id with the SHA-256 of each
	// public key (DER), the key id DSSE signatures carry: a label can be
	// reused by another key, a fingerprint cannot.
	Fingerprints []KeyFingerprint `json:"fingerprints"`
	Problems     []string         `json:"problems"`

	// facts are the verified records the monitoring section reads.
	facts *ledgerFacts
}

// KeyFingerprint is a trusted key's id and the SHA-256 of its public key.
type KeyFingerprint struct {
	ID          string `json:"id"`
	Fingerprint string `json:"fingerprint"`
}

// Summary is the one-screen overview.
type Summary struct {
	Models            int      `json:"models"`
	Releases          int      `json:"releases"`
	FailedReleases    int      `json:"failed_releases"`
	ActiveWaivers     int      `json:"active_waivers"`
	ExpiringWaivers   int      `json:"expiring_waivers"`
	ExpiredWaivers    int      `json:"expired_waivers"`
	UnapprovedWaivers int      `json:"unapproved_waivers"`
	LackingFairness   []string `json:"lacking_fairness"`
	LackingHandover   []string `json:"lacking_handover"`
	Unreleased        []string `json:"unreleased"`
	// Gaps is each framework's standing: its items, those that are a gap
	// for at least one model, and its model × item cells by status.
	Gaps []FrameworkGaps `json:"gaps"`
	// Attention lists what a compliance officer should look at first.
	Attention []string `json:"attention"`
}

// FrameworkGaps counts one framework's items, and its cells: one for each
// model in scope and item. Covered, Exception and Gap count cells, so they
// add up to Cells, not to Items.
type FrameworkGaps struct {
	Framework string `json:"framework"`
	Items     int    `json:"items"`
	// GapItems counts the items that are a gap for at least one model.
	GapItems  int `json:"gap_items"`
	Cells     int `json:"cells"`
	Covered   int `json:"covered"`
	Exception int `json:"exception"`
	// NotApplicable counts cells whose rules had nothing to judge.
	NotApplicable int `json:"not_applicable"`
	// Declared counts cells that rest only on people's declarations.
	Declared int `json:"declared"`
	Gap      int `json:"gap"`
}

// PortfolioRow is one model in the portfolio view.
type PortfolioRow struct {
	Model string `json:"model"`
	Owner string `json:"owner"`
	// Current is the newest verified release per environment, in
	// promotion order; environments without one are absent.
	Current         []Current `json:"current"`
	LatestDecision  string    `json:"latest_decision"`
	LatestVerdict   string    `json:"latest_verdict"`
	OpenWaivers     int       `json:"open_waivers"`
	ExpiringWaivers int       `json:"expiring_waivers"`
	Fairness        bool      `json:"fairness_evidence"`
	Handover        bool      `json:"handover_evidence"`
	FailedReleases  int       `json:"failed_releases"`
	// LoosenedThreshold: the model's latest verified release in scope
	// loosened a threshold of the release before it in its environment.
	LoosenedThreshold bool `json:"loosened_threshold"`
	// LastMonitored is, per environment the model is released in with a
	// monitoring.source, when it was last monitored and whether it is
	// stale (monitoring.md).
	LastMonitored []MonitoredStatus `json:"last_monitored"`
}

// Current is a model's current version in one environment.
type Current struct {
	Environment string `json:"environment"`
	Version     string `json:"version"`
	ReleasedAt  string `json:"released_at"`
	Decision    string `json:"decision"`
	Verdict     string `json:"verdict"`
	Record      string `json:"record"`
}

// ReleaseRow is one ledger record.
type ReleaseRow struct {
	Seq         int    `json:"seq"`
	Environment string `json:"environment"`
	Model       string `json:"model"`
	Version     string `json:"version"`
	Record      string `json:"record"`
	// ReleasedAt is the signed time; for a record that fails
	// verification it is the index's unsigned recordedAt.
	ReleasedAt string   `json:"released_at"`
	Decision   string   `json:"decision,omitempty"`
	Verdict    string   `json:"verdict,omitempty"`
	KeyID      string   `json:"key_id,omitempty"`
	Verified   bool     `json:"verified"`
	Problems   []string `json:"problems"`
	Notes      []string `json:"notes"`
	Commit     string   `json:"commit,omitempty"`
}

// WaiverRow is one waiver and its standing at the report's clock.
type WaiverRow struct {
	Rule        string `json:"rule"`
	Model       string `json:"model"`
	Environment string `json:"environment"`
	Reason      string `json:"reason"`
	ApprovedBy  string `json:"approved_by"`
	Expires     string `json:"expires"`
	Ticket      string `json:"ticket"`
	Status      string `json:"status"`
	// DaysLeft is the days until the end of the expiry date; negative
	// once expired.
	DaysLeft int `json:"days_left"`
	// Signed lists the release records that carry the waiver.
	Signed []string `json:"signed"`
	Source string   `json:"source"`
}

// Framework is the control coverage table of one framework.
type Framework struct {
	Framework string         `json:"framework"`
	Title     string         `json:"title"`
	Items     []CoverageItem `json:"items"`
}

// CoverageItem is one control item and its standing per model.
type CoverageItem struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Detail marks items the report breaks down rule by rule.
	Detail bool `json:"detail"`
	// Rules are the rules serving the item: those frameworks.json lists
	// as able to carry it and those whose metadata claims it.
	Rules []string `json:"rules"`
	// Mappings say, per rule in Rules, why it serves the item and whether
	// its pass can make the item covered.
	Mappings []Mapping      `json:"mappings"`
	Models   []CoverageCell `json:"models"`
}

// Mapping is one rule serving a framework item.
type Mapping struct {
	Rule string `json:"rule"`
	// Rationale is the one-line reason the rule evidences the item, or
	// why it cannot.
	Rationale string `json:"rationale"`
	// Counts says whether the rule's pass can make the item covered.
	Counts bool `json:"counts"`
	// Repository marks a repository (not built-in) rule.
	Repository bool `json:"repository,omitempty"`
	// Declared marks a rule that checks a person's declaration is
	// complete: its pass makes the item declared, never covered.
	Declared bool `json:"declared,omitempty"`
}

// CoverageCell is one model's standing on one control item.
type CoverageCell struct {
	Model  string `json:"model"`
	Status string `json:"status"`
	// Results are the signed results of the rules serving the item.
	Results []RuleOutcome `json:"results"`
	// Record is the verified release record the results come from.
	Record string `json:"record,omitempty"`
	// RecordDigest is the digest of that record file.
	RecordDigest string `json:"record_digest,omitempty"`
	// Evidence is the digest of the evidence summary the record pins.
	Evidence string `json:"evidence,omitempty"`
	Note     string `json:"note,omitempty"`
}

// RuleOutcome is one rule's signed outcome.
type RuleOutcome struct {
	Rule    string `json:"rule"`
	Outcome string `json:"outcome"`
	Message string `json:"message,omitempty"`
	// Label names a repository rule with the policy bundle digest.
	Label string `json:"label,omitempty"`
	// NotCounted says why this outcome does not count toward coverage.
	NotCounted string `json:"not_counted,omitempty"`
}

// Dossier is everything about one model.
type Dossier struct {
	Model       string      `json:"model"`
	Version     string      `json:"version"`
	Owner       string      `json:"owner"`
	Team        string      `json:"team,omitempty"`
	Task        string      `json:"task"`
	IntendedUse IntendedUse `json:"intended_use"`
	Artifact    Artifact    `json:"artifact"`
	// Identity says where identity, owners and intended use come from.
	Identity string `json:"identity_source"`
	// Reference is the verified release the dossier's figures come from:
	// the newest in the furthest environment of the scope.
	Reference  *ReleaseRow      `json:"reference"`
	Releases   []ReleaseRow     `json:"releases"`
	Lineage    Lineage          `json:"lineage"`
	Evaluation *Evaluation      `json:"evaluation"`
	Fairness   *FairnessSection `json:"fairness"`
	Tests      *Tests           `json:"tests"`
	// Earlier is the evidence of the model's other verified releases in
	// scope, read from their evidence bundles, newest first.
	Earlier []ReleaseEvidence `json:"earlier_evidence"`
	// Diffs are what changed between each verified release in scope and
	// the verified release of its environment before it, newest first.
	Diffs []ReleaseDiff `json:"diffs"`
	// Declared is what only people can state, each block shown as
	// declared by its owner, never as verified.
	Declared []Declaration `json:"declared"`
	// Monitoring is the post-market monitoring section; nil without a
	// monitoring.source or monitoring record.
	Monitoring     *MonitoringSection `json:"monitoring"`
	Handover       []ChecklistItem    `json:"handover"`
	Results        []PolicyResult     `json:"results"`
	Waivers        []WaiverRow        `json:"waivers"`
	Approvals      []ApprovalRow      `json:"approvals"`
	Signatures     []SignatureRow     `json:"signatures"`
	Infrastructure []InfraRow         `json:"infrastructure"`
	// Gaps are the model's problems in plain words.
	Gaps []string `json:"gaps"`

	// coverage is this model's column of the report's coverage tables;
	// the JSON carries it once, in Report.Coverage.
	coverage []Framework
}

// IntendedUse is what the model is for.
type IntendedUse struct {
	Summary       string   `json:"summary"`
	AffectsPeople bool     `json:"affects_people"`
	OutOfScope    []string `json:"out_of_scope"`
}

// Artifact is the released model file.
type Artifact struct {
	URI    string `json:"uri"`
	Digest string `json:"digest"`
	Format string `json:"format,omitempty"`
}

// Lineage is the model's data: sources, the evidence files the release
// pins and their quality results.
type Lineage struct {
	Sources []DataSourceRow `json:"sources"`
	Inputs  []InputRow      `json:"inputs"`
	// EvidenceSummary is the pinned evidence summary and whether the file
	// at hand still has the signed digest.
	EvidenceSummary *InputRow `json:"evidence_summary"`
	// Drift compares the reference and current snapshots per feature.
	Drift  []DriftRow `json:"drift"`
	Source string     `json:"source"`
}

// DriftRow is one feature's drift between the reference and current
// snapshots, judged against the spec's monitoring threshold.
type DriftRow struct {
	Feature   string   `json:"feature"`
	Reference string   `json:"reference"`
	Current   string   `json:"current"`
	Metric    string   `json:"metric"`
	PSI       *float64 `json:"psi"`
	KS        *float64 `json:"ks"`
	KSPValue  *float64 `json:"ks_p_value"`
	Threshold *float64 `json:"threshold"`
	// RuleOutcome is the outcome data.drift signed for the feature: the
	// worst of its findings on the feature, pass when it judged the
	// release and found nothing on the feature, empty when it does not
	// judge the feature. The report never compares the figure with the
	// threshold itself.
	RuleOutcome string `json:"rule_outcome,omitempty"`
	Source      string `json:"source"`
}

// DriftRule is the rule that judges the row's feature, empty for a
// feature it does not monitor.
func (r DriftRow) DriftRule() string {
	if r.Threshold == nil && r.RuleOutcome == "" {
		return ""
	}
	return "data.drift"
}

// InputRow is one hashed evidence file.
type InputRow struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	// Match says whether the file at hand has the signed digest:
	// "match", "changed" or "missing"; for an evidence summary kept in
	// the release's bundle, "bundled", "blob missing" or "blob changed".
	Match string `json:"match"`
}

// DataSourceRow is one data source the model uses.
type DataSourceRow struct {
	Name           string         `json:"name"`
	Roles          []string       `json:"roles"`
	Owner          string         `json:"owner"`
	Classification string         `json:"classification"`
	PII            []string       `json:"pii"`
	Version        string         `json:"version"`
	Snapshot       string         `json:"snapshot,omitempty"`
	SnapshotSHA256 string         `json:"snapshot_sha256,omitempty"`
	Rows           *int64         `json:"rows"`
	Quality        []QualityCheck `json:"quality"`
	Source         string         `json:"source"`
	QualitySource  string         `json:"quality_source"`
}

// QualityCheck is one data quality result.
type QualityCheck struct {
	Check  string   `json:"check"`
	Column string   `json:"column,omitempty"`
	Value  *float64 `json:"value"`
	Bound  string   `json:"bound,omitempty"`
	// Rule is the rule that judges the row, empty for a figure no
	// expectation bounds; Outcome is what it signed for the row (see
	// DriftRow's RuleOutcome): the report never compares the value with
	// the bound itself.
	Rule    string `json:"rule,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// Evaluation is the model's metrics against their thresholds.
type Evaluation struct {
	Rows    int64       `json:"rows"`
	Metrics []MetricRow `json:"metrics"`
	Source  string      `json:"source"`
	Note    string      `json:"note,omitempty"`
	// CINote says where the confidence intervals come from.
	CINote string `json:"ci_note,omitempty"`
	// Baseline says what the metrics were compared with: measured,
	// declared in the spec, a previous release, or no baseline yet.
	Baseline string `json:"baseline,omitempty"`
}

// MetricRow is one metric with its bounds and baseline.
type MetricRow struct {
	Name     string    `json:"name"`
	Value    *float64  `json:"value"`
	Min      *float64  `json:"min,omitempty"`
	Max      *float64  `json:"max,omitempty"`
	Baseline *float64  `json:"baseline,omitempty"`
	Delta    *float64  `json:"delta,omitempty"`
	CI       []float64 `json:"ci,omitempty"`
	// Rule is the rule that judges the metric against its bound
	// ("fairness." for the fairness rules), empty when none bounds it.
	Rule string `json:"rule,omitempty"`
	// Outcome is what Rule signed for this metric (see DriftRow's
	// RuleOutcome); the report never compares the value with the bound
	// itself.
	Outcome string `json:"outcome,omitempty"`
	Source  string `json:"source"`
}

// FairnessSection is the per-group picture of a model.
type FairnessSection struct {
	Attributes []FairnessAttribute `json:"attributes"`
	Excluded   []ExcludedGroup     `json:"excluded_groups"`
	Source     string              `json:"source"`
	// Missing says why there is no fairness evidence, when there is none.
	Missing string `json:"missing,omitempty"`
	// Unavailable says why the per-group figures of fairness evidence the
	// release rests on cannot be shown.
	Unavailable string `json:"unavailable,omitempty"`
	// CINote says where the confidence intervals come from.
	CINote string `json:"ci_note,omitempty"`
}

// FairnessAttribute is one sensitive attribute.
type FairnessAttribute struct {
	Name      string      `json:"name"`
	Reference string      `json:"reference_group"`
	Groups    []GroupRow  `json:"groups"`
	Metrics   []MetricRow `json:"metrics"`
	// Charts are drawn in the HTML report from Groups and Metrics.
	Charts []Chart `json:"charts"`
}

// GroupRow is one group's rates.
type GroupRow struct {
	Group         string    `json:"group"`
	Count         int64     `json:"count"`
	SelectionRate *float64  `json:"selection_rate"`
	SelectionCI   []float64 `json:"selection_rate_ci,omitempty"`
	TPR           *float64  `json:"tpr"`
	TPRCI         []float64 `json:"tpr_ci,omitempty"`
	FPR           *float64  `json:"fpr"`
	FPRCI         []float64 `json:"fpr_ci,omitempty"`
}

// Chart describes one per-group bar chart: which rate, and the threshold
// line derived from the spec's fairness bound.
type Chart struct {
	Metric    string   `json:"metric"`
	Title     string   `json:"title"`
	Threshold *float64 `json:"threshold"`
	// ThresholdLabel says how the line follows from the bound.
	ThresholdLabel string `json:"threshold_label"`
}

// ExcludedGroup is a group left out of the fairness aggregates.
type ExcludedGroup struct {
	Attribute string `json:"attribute"`
	Group     string `json:"group"`
	Count     int64  `json:"count"`
	Reason    string `json:"reason"`
}

// Tests are the model's test suites.
type Tests struct {
	Suites   []Suite `json:"suites"`
	Tests    int     `json:"tests"`
	Failures int     `json:"failures"`
	Errors   int     `json:"errors"`
	Skipped  int     `json:"skipped"`
	Source   string  `json:"source"`
}

// Suite is one JUnit suite.
type Suite struct {
	Name     string `json:"name"`
	Required bool   `json:"required"`
	Tests    int    `json:"tests"`
	Failures int    `json:"failures"`
	Errors   int    `json:"errors"`
	Skipped  int    `json:"skipped"`
	// Passed is what the JUnit summary says of the suite; Outcome is
	// what Rule, the testing rule that judges it, signed for it (empty
	// when it did not judge the release), which the tables show.
	Passed  bool   `json:"passed"`
	Rule    string `json:"rule"`
	Outcome string `json:"outcome,omitempty"`
}

// ChecklistItem is one handover item with its evidence.
type ChecklistItem struct {
	Rule     string `json:"rule"`
	Item     string `json:"item"`
	Outcome  string `json:"outcome"`
	Message  string `json:"message,omitempty"`
	Evidence string `json:"evidence"`
	Source   string `json:"source"`
}

// PolicyResult is one signed policy result.
type PolicyResult struct {
	Environment string    `json:"environment"`
	Version     string    `json:"version"`
	Rule        string    `json:"rule"`
	Title       string    `json:"title"`
	Severity    string    `json:"severity"`
	Outcome     string    `json:"outcome"`
	Message     string    `json:"message,omitempty"`
	Controls    []Control `json:"controls"`
	Waiver      string    `json:"waiver,omitempty"`
	Source      string    `json:"source"`
}

// Control is one compliance control.
type Control struct {
	Framework string `json:"framework"`
	ID        string `json:"id"`
}

// ApprovalRow is one approving review of a release.
type ApprovalRow struct {
	Environment string `json:"environment"`
	Version     string `json:"version"`
	User        string `json:"user"`
	State       string `json:"state"`
	SubmittedAt string `json:"submitted_at,omitempty"`
	Source      string `json:"source"`
}

// SignatureRow is one release record's signature.
type SignatureRow struct {
	Environment string `json:"environment"`
	Version     string `json:"version"`
	Record      string `json:"record"`
	KeyID       string `json:"key_id"`
	// KeyFingerprint is the SHA-256 of the public key that verified it.
	KeyFingerprint string `json:"key_fingerprint,omitempty"`
	SignedAt       string `json:"signed_at"`
	Verified       bool   `json:"verified"`
}

// InfraRow is one stack a release applied.
type InfraRow struct {
	Environment string `json:"environment"`
	Version     string `json:"version"`
	Stack       string `json:"stack"`
	Create      int    `json:"create"`
	Update      int    `json:"update"`
	Delete      int    `json:"delete"`
	Replace     int    `json:"replace"`
	PlanSHA256  string `json:"plan_sha256"`
	Rendered    string `json:"rendered,omitempty"`
	Source      string `json:"source"`
}

// ReleaseEvidence is the per-group evidence of one release other than the
// reference, read from its evidence bundle.
type ReleaseEvidence struct {
	Environment string `json:"environment"`
	Version     string `json:"version"`
	Record      string `json:"record"`
	ReleasedAt  string `json:"released_at"`
	// Evidence is how the summary was read (bundled, or the blob's
	// problem).
	Evidence string           `json:"evidence"`
	Problem  string           `json:"problem,omitempty"`
	Sources  []DataSourceRow  `json:"sources,omitempty"`
	Drift    []DriftRow       `json:"drift,omitempty"`
	Fairness *FairnessSection `json:"fairness,omitempty"`
	Tests    *Tests           `json:"tests,omitempty"`
}
