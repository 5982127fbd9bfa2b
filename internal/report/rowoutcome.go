package report

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/ledger"
)

// A table row of a dossier (a metric, a fairness figure, a feature's
// drift) shows the outcome the rule that judged it signed, never a
// comparison the report makes again: a table and a rule can then never
// disagree (a feature the rule does not monitor, a threshold the rule
// reads elsewhere, an interval the rule decides on).

// finding is one signed finding of a release, with the spec field it
// concerns when the release's bundle keeps its check result.
type finding struct {
	rule, outcome, field, message string
}

// releaseFindings are the findings of a release: from the check result in
// its evidence bundle when it verifies (each names its field), else the
// signed results (rule, outcome and message only).
func releaseFindings(root string, p *attest.Release) []finding {
	if d := p.Bundle.Blob(attest.BlobCheck); d != "" {
		if b, err := ledger.Open(root).ReadBlob(d); err == nil {
			var u checkresult.Unit
			if json.Unmarshal(b, &u) == nil {
				out := make([]finding, 0, len(u.Results))
				for _, f := range u.Results {
					out = append(out, finding{rule: f.Rule, outcome: string(f.Outcome), field: f.Field, message: f.Message})
				}
				return out
			}
		}
	}
	out := make([]finding, 0, len(p.Results))
	for _, r := range p.Results {
		out = append(out, finding{rule: r.Rule, outcome: r.Outcome, message: r.Message})
	}
	return out
}

// rowOutcome is the outcome a table row shows: the worst outcome of the
// findings of rule (a rule id, or a prefix ending in ".") that concern
// the row, as about tells; "pass" when the rule judged the release and
// none concerns the row; "" when the rule gave no outcome (it did not
// judge the release).
func rowOutcome(fs []finding, rule string, about func(field, message string) bool) string {
	judged, worst := false, ""
	for _, f := range fs {
		if f.rule != rule && !(strings.HasSuffix(rule, ".") && strings.HasPrefix(f.rule, rule)) {
			continue
		}
		if checkresult.Outcome(f.outcome) == checkresult.NotApplicable {
			continue
		}
		judged = true
		if checkresult.Outcome(f.outcome).Quiet() || !about(f.field, f.message) {
			continue
		}
		if worst == "" || checkresult.Outcome(f.outcome).Rank() < checkresult.Outcome(worst).Rank() {
			worst = f.outcome
		}
	}
	switch {
	case worst != "":
		return worst
	case judged:
		return string(checkresult.Pass)
	}
	return ""
}

// aboutMetric: a finding of evaluation.metric_threshold on metric name.
func aboutMetric(name string) func(string, string) bool {
	return func(field, msg string) bool {
		if field != "" {
			return field == "evaluation.metrics."+name
		}
		return strings.HasPrefix(msg, name+" is ") || strings.HasPrefix(msg, name+" was not computed")
	}
}

// aboutFairness: a finding of a fairness rule on metric of attribute
// attr. The field names the threshold, not the attribute, which only the
// message says ("METRIC for ATTR ...").
func aboutFairness(attr, metric string) func(string, string) bool {
	return func(field, msg string) bool {
		if field != "" && field != "fairness.thresholds."+metric && field != "fairness.sensitive" {
			return false
		}
		return strings.HasPrefix(msg, metric+" for "+attr+" ")
	}
}

// aboutFeature: a finding of data.drift on the i-th monitored feature.
func aboutFeature(i int, name string) func(string, string) bool {
	return func(field, msg string) bool {
		if field != "" {
			return field == fmt.Sprintf("monitoring.drift.features[%d]", i)
		}
		return strings.Contains(msg, "feature "+name+" ")
	}
}

// aboutQuality: a finding of data.quality on check (as the quality package
// names it: completeness, unique_keys, ...) of a data source's column. The
// field names only the source, the message the check and column ("data
// source NAME: CHECK on COLUMN: ...").
func aboutQuality(source, check, column string) func(string, string) bool {
	prefix := "data source " + source + ": " + check
	if column != "" {
		prefix += " on " + column
	}
	prefix += ": "
	return func(field, msg string) bool {
		if field != "" && field != "dataSources."+source+".quality" {
			return false
		}
		return strings.HasPrefix(msg, prefix)
	}
}

// aboutSuite: a finding of a testing rule on a suite. A required suite's
// findings name its place in tests.requiredSuites, another's name
// tests.reports; the message names the suite either way.
func aboutSuite(name string, required int) func(string, string) bool {
	quoted := strconv.Quote(name)
	return func(field, msg string) bool {
		if required >= 0 {
			if field != "" {
				return field == fmt.Sprintf("tests.requiredSuites[%d]", required)
			}
			return strings.HasPrefix(msg, "required suite "+quoted+" ")
		}
		return (field == "" || field == "tests.reports") && strings.HasPrefix(msg, "suite "+quoted+" ")
	}
}
