# METADATA
# title: Post-market monitoring
# description: >-
#   A deployed model is monitored on its production logs: on schedule, with
#   inputs that have not drifted, live performance and fairness within the
#   released bounds, a release young enough and no request served by a
#   version no verified release covers. The figures come from `slipway
#   monitor`, which aggregates the logs itself; too little data is
#   insufficient evidence, never a pass.
package slipway.monitoring

import data.slipway.defaults
import data.slipway.lib

# mon is the run's figures; undefined outside `slipway monitor`, which
# leaves every rule but monitoring.fresh silent.
mon := input.monitoring if is_object(input.monitoring)

min_rows := object.get(input.model, ["monitoring", "minRows"], defaults.model.monitoring.minRows)

outcomes := object.get(mon, "outcomes", null)

labelled := object.get(outcomes, "labelled", 0) if outcomes != null

# too_few_rows holds when the window has fewer requests than minRows.
too_few_rows if object.get(mon, "rows", 0) < min_rows

# no_outcomes says why live metrics cannot be judged, if they cannot.
no_outcomes := "monitoring.source has no outcomes, so live metrics cannot be measured" if outcomes == null

no_outcomes := sprintf("%d labelled request(s) in the window, fewer than minRows %d", [labelled, min_rows]) if {
	outcomes != null
	labelled < min_rows
}

seconds(ts) := time.parse_rfc3339_ns(ts) / 1000000000

# METADATA
# title: Monitored on schedule
# description: >-
#   A model deployed in an environment and monitored by Slipway (it has a
#   monitoring.source) has a signed monitoring record no older than its
#   schedule allows plus monitoring.slack. `slipway check` judges this too,
#   so a model left unmonitored blocks its next release.
# custom:
#   id: monitoring.fresh
#   severity: deny
#   units: [model, monitoring]
#   requires: [monitoring_status]
#   controls:
#     - {framework: EU AI Act, id: Art. 72}
#     - {framework: EU AI Act, id: Annex IV 9}
#     - {framework: NIST AI RMF, id: MANAGE 4.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.6}
deny contains r if {
	st := input.monitoring_status
	st.overdue
	st.last == ""
	msg := sprintf("deployed in %s since %s and never monitored: run `slipway monitor --env %s --model %s`", [input.environment.name, st.since, input.environment.name, input.model.name])
	r := lib.result("monitoring.fresh", msg, "monitoring.schedule")
}

deny contains r if {
	st := input.monitoring_status
	st.overdue
	st.last != ""
	age := seconds(input.now) - seconds(st.last)
	msg := sprintf("last monitored %s, %d hour(s) ago; the schedule %q plus slack allows %d", [st.last, floor(age / 3600), input.model.monitoring.schedule, floor(st.max_gap_seconds / 3600)])
	r := lib.result("monitoring.fresh", msg, "monitoring.schedule")
}

# METADATA
# title: Inputs have not drifted
# description: >-
#   Every feature in monitoring.drift.features stays within the drift
#   threshold (PSI, or KS for numeric features) against the released
#   version's reference snapshot.
# custom:
#   id: monitoring.drift
#   severity: deny
#   units: [monitoring]
#   requires: [monitoring]
#   controls:
#     - {framework: EU AI Act, id: Art. 72}
#     - {framework: EU AI Act, id: Annex IV 9}
#     - {framework: NIST AI RMF, id: MEASURE 2.4}
#     - {framework: ISO/IEC 42001, id: A.6.2.6}
deny contains r if {
	too_few_rows
	msg := sprintf("insufficient evidence: %d request(s) in the window, fewer than minRows %d", [object.get(mon, "rows", 0), min_rows])
	r := lib.result("monitoring.drift", msg, "monitoring.minRows")
}

deny contains r if {
	not too_few_rows
	d := input.model.monitoring.drift
	some i, f in d.features
	v := object.get(mon, ["drift", f, d.metric], null)
	is_number(v)
	v > d.threshold
	msg := sprintf("feature %s drifted: %s %v > threshold %v", [f, d.metric, lib.num(v), d.threshold])
	r := lib.result("monitoring.drift", msg, sprintf("monitoring.drift.features[%d]", [i]))
}

deny contains r if {
	not too_few_rows
	d := input.model.monitoring.drift
	some i, f in d.features
	not is_number(object.get(mon, ["drift", f, d.metric], null))
	why := object.get(mon, ["drift", f, "undefined", d.metric], "not computed")
	msg := sprintf("insufficient evidence: %s of feature %s is undefined (%s)", [d.metric, f, why])
	r := lib.result("monitoring.drift", msg, sprintf("monitoring.drift.features[%d]", [i]))
}

# METADATA
# title: Live performance holds
# description: >-
#   Once outcomes arrive, every confusion-matrix metric in
#   evaluation.metrics, measured on the labelled requests with the same
#   definitions as `slipway evaluate`, stays within its threshold and no
#   more than the baseline tolerance below the figure signed in the release.
# custom:
#   id: monitoring.performance
#   severity: deny
#   units: [monitoring]
#   requires: [monitoring]
#   controls:
#     - {framework: EU AI Act, id: Art. 72}
#     - {framework: EU AI Act, id: Annex IV 9}
#     - {framework: NIST AI RMF, id: MEASURE 2.4}
#     - {framework: NIST AI RMF, id: MANAGE 4.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.6}
deny contains r if {
	msg := sprintf("insufficient evidence: %s", [no_outcomes])
	r := lib.result("monitoring.performance", msg, "monitoring.source.outcomes")
}

live(name) := object.get(outcomes, ["overall", name], null)

deny contains r if {
	not no_outcomes
	some name, t in input.model.evaluation.metrics
	v := live(name)
	is_number(v)
	lib.outside(v, t)
	msg := sprintf("live %s is %v, threshold %s", [name, lib.num(v), lib.bounds(t)])
	r := lib.result("monitoring.performance", msg, sprintf("evaluation.metrics.%s", [name]))
}

# measured are the metrics a live run measures: the confusion-matrix ones.
# Score-rank metrics (roc_auc, ece, ...) need every request's score and are
# listed in the figures' not_measured instead.
measured(name) if name in object.keys(object.get(outcomes, "overall", {}))

deny contains r if {
	not no_outcomes
	some name, _ in input.model.evaluation.metrics
	measured(name)
	not is_number(live(name))
	why := object.get(outcomes, ["overall", "undefined", name], "not computed")
	msg := sprintf("insufficient evidence: live %s is undefined (%s)", [name, why])
	r := lib.result("monitoring.performance", msg, sprintf("evaluation.metrics.%s", [name]))
}

tolerance := lib.baseline_tolerance

deny contains r if {
	not no_outcomes
	some name, t in input.model.evaluation.metrics
	"min" in object.keys(t)
	v := live(name)
	signed := object.get(mon, ["release", "headline", name], null)
	is_number(v)
	is_number(signed)
	v < signed - tolerance
	msg := sprintf("live %s is %v, below the signed release figure %v minus tolerance %v", [name, lib.num(v), lib.num(signed), tolerance])
	r := lib.result("monitoring.performance", msg, sprintf("evaluation.metrics.%s", [name]))
}

# METADATA
# title: Live fairness holds
# description: >-
#   Once outcomes arrive, the fairness gaps between the groups of each
#   sensitive attribute stay within the model's fairness thresholds (or the
#   platform's). Groups too small to compare leave a gap undefined, which
#   is reported as insufficient evidence.
# custom:
#   id: monitoring.fairness
#   severity: deny
#   units: [monitoring]
#   requires: [monitoring]
#   controls:
#     - {framework: EU AI Act, id: Art. 72}
#     - {framework: NIST AI RMF, id: MEASURE 2.4}
#     - {framework: ISO/IEC 42001, id: A.6.2.6}
deny contains r if {
	count(lib.sensitive) > 0
	msg := sprintf("insufficient evidence: %s", [no_outcomes])
	r := lib.result("monitoring.fairness", msg, "fairness.sensitive")
}

fair(attr, metric) := object.get(outcomes, ["fairness", attr, metric], null)

deny contains r if {
	not no_outcomes
	some attr in lib.sensitive
	some metric, t in lib.fairness_thresholds
	v := fair(attr, metric)
	is_number(v)
	lib.outside(v, t)
	msg := sprintf("live %s for %s is %v, threshold %s", [metric, attr, lib.num(v), lib.bounds(t)])
	r := lib.result("monitoring.fairness", msg, "fairness.sensitive")
}

deny contains r if {
	not no_outcomes
	some attr in lib.sensitive
	some metric, _ in lib.fairness_thresholds
	not is_number(fair(attr, metric))
	why := object.get(outcomes, ["fairness", attr, "undefined", metric], "not computed")
	msg := sprintf("insufficient evidence: live %s for %s is undefined (%s)", [metric, attr, why])
	r := lib.result("monitoring.fairness", msg, "fairness.sensitive")
}

# METADATA
# title: Release young enough
# description: >-
#   The version serving in the environment was released no more than
#   monitoring.retrain.maxAgeDays ago; past that the model is retrained.
# custom:
#   id: monitoring.model_age
#   severity: deny
#   units: [monitoring]
#   requires: [monitoring]
#   controls:
#     - {framework: EU AI Act, id: Art. 72}
#     - {framework: NIST AI RMF, id: MANAGE 4.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.6}
deny contains r if {
	max_age := input.model.monitoring.retrain.maxAgeDays
	rel := object.get(mon, "release", null)
	rel != null
	rel.age_days > max_age
	msg := sprintf("release %s is %d day(s) old, more than retrain.maxAgeDays %d: retrain and release a new version", [rel.version, floor(rel.age_days), max_age])
	r := lib.result("monitoring.model_age", msg, "monitoring.retrain.maxAgeDays")
}

deny contains r if {
	input.model.monitoring.retrain.maxAgeDays
	object.get(mon, "release", null) == null
	msg := sprintf("insufficient evidence: no verified release of %s in %s to date", [input.model.name, input.environment.name])
	r := lib.result("monitoring.model_age", msg, "monitoring.retrain.maxAgeDays")
}

# METADATA
# title: Only released versions serve
# description: >-
#   Every logged request was served by a model version that a verified
#   release record covers in the environment. A verified rollback withdraws
#   the version it went back from: its requests after the rollback are not
#   covered until it is released again.
# custom:
#   id: monitoring.unreleased_version
#   severity: deny
#   units: [monitoring]
#   requires: [monitoring]
#   controls:
#     - {framework: EU AI Act, id: Art. 72}
#     - {framework: NIST AI RMF, id: MANAGE 4.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.6}
deny contains r if {
	some version, v in object.get(mon, "versions", {})
	not v.released
	msg := sprintf("%d request(s) (%v%% of the window) served by version %s, which no verified release in %s covers", [v.requests, lib.num(v.share * 100), version, input.environment.name])
	r := lib.result("monitoring.unreleased_version", msg, "version")
}

deny contains r if {
	some version, v in object.get(mon, "versions", {})
	v.released
	object.get(v, "after_rollback", 0) > 0
	msg := sprintf("%d request(s) served by version %s after the rollback to %s at %s; since then no verified release in %s covers it", [v.after_rollback, version, v.rolled_back_to, v.rolled_back_at, input.environment.name])
	r := lib.result("monitoring.unreleased_version", msg, "version")
}
