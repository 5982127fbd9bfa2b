package report

import (
	"fmt"

	"github.com/slipway-ml/slipway/internal/evidence"
	"github.com/slipway-ml/slipway/internal/metrics"
)

// Bootstrap settings for intervals the report recomputes.
const (
	ciReplicates = 1000
	ciSeed       = 1
)

// intervals makes sure the evidence carries 95% confidence intervals and
// says where they come from. When the signed evidence summary has none,
// they are recomputed from the hashed predictions file the release pins,
// after checking its digest, with the released spec's settings; the
// recomputation must reproduce the signed counts, or it is not used.
func (b *builder) intervals(d *dossier) string {
	ev := d.ev.Evaluation
	if ev == nil {
		return ""
	}
	if ev.CI != nil {
		return fmt.Sprintf("95%% intervals from the signed evidence (%s, %d replicates)", ev.CI.Method, ev.CI.Replicates)
	}
	m := d.model
	if m == nil || m.Task != metrics.Binary || d.ref.st.Predicate.Evidence == nil {
		return ""
	}
	pred, sha := m.Evaluation.Predictions, ""
	for _, in := range d.ref.st.Predicate.Evidence.Inputs {
		if in.Path == pred {
			sha = in.SHA256
		}
	}
	if sha == "" || fileMatch(b.p.Root, pred, sha) != matchOK {
		return ""
	}
	cfg := evidence.MetricsConfig(*m, b.p.Policy)
	cfg.Bootstrap, cfg.Seed, cfg.Workers = ciReplicates, ciSeed, 1
	re, err := metrics.EvaluateFile(b.ctx, abs(b.p.Root, pred), cfg)
	if err != nil || re.CI == nil || !sameCounts(ev.Report, re) {
		return ""
	}
	ev.CI = re.CI
	return fmt.Sprintf("95%% intervals recomputed by the report from the hashed predictions %s (%s): %d Poisson bootstrap replicates, seed %d", pred, sha, ciReplicates, ciSeed)
}

// sameCounts checks that a recomputation reproduces the signed evidence's
// row counts overall and per group.
func sameCounts(signed, re *metrics.Report) bool {
	if signed.Rows != re.Rows || signed.Overall.Count != re.Overall.Count || len(signed.Groups) != len(re.Groups) {
		return false
	}
	for attr, groups := range signed.Groups {
		for g, s := range groups {
			if re.Groups[attr][g].Count != s.Count {
				return false
			}
		}
	}
	return true
}
