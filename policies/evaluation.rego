# METADATA
# title: Evaluation
# description: >-
#   The model's measured performance on its gold dataset, as computed by
#   Slipway from the predictions file, meets what the spec demands.
package slipway.evaluation

import data.slipway.lib

# METADATA
# title: Evaluation metrics meet their thresholds
# description: >-
#   Every metric threshold in the model's evaluation block is met by the
#   metric Slipway computed on the gold dataset. A metric that could not be
#   computed fails.
# custom:
#   id: evaluation.metric_threshold
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: EU AI Act, id: Annex IV 3}
#     - {framework: NIST AI RMF, id: MEASURE 2.3}
#     - {framework: NIST AI RMF, id: MEASURE 2.5}
#     - {framework: ISO/IEC 42001, id: A.6.2.4}
deny contains r if {
	some name, t in input.model.evaluation.metrics
	v := lib.metric(name)
	is_number(v)
	lib.outside(v, t)
	msg := sprintf("%s is %v, threshold %s", [name, lib.num(v), lib.bounds(t)])
	r := lib.result("evaluation.metric_threshold", msg, sprintf("evaluation.metrics.%s", [name]))
}

# An estimate within its bound whose 95% interval crosses the bound, where
# the threshold is decided on the interval, is insufficient evidence.
deny contains r if {
	some name, t in input.model.evaluation.metrics
	v := lib.metric(name)
	is_number(v)
	not lib.outside(v, t)
	lib.decide_on(t) == "interval"
	iv := lib.metric_interval(name)
	is_array(iv)
	lib.crosses(iv, t)
	msg := sprintf("%s is %v, within %s, but its 95%% interval %s crosses the bound (decided on the interval)", [name, lib.num(v), lib.bounds(t), lib.interval(iv)])
	r := lib.insufficient("evaluation.metric_threshold", msg, sprintf("evaluation.metrics.%s", [name]))
}

deny contains r if {
	some name, t in input.model.evaluation.metrics
	v := lib.metric(name)
	is_number(v)
	not lib.outside(v, t)
	lib.decide_on(t) == "interval"
	not is_array(lib.metric_interval(name))
	msg := sprintf("%s is %v, within %s, but has no 95%% interval to decide on (set decideOn: \"estimate\" to decide on the estimate)", [name, lib.num(v), lib.bounds(t)])
	r := lib.insufficient("evaluation.metric_threshold", msg, sprintf("evaluation.metrics.%s", [name]))
}

deny contains r if {
	some name, _ in input.model.evaluation.metrics
	not is_number(lib.metric(name))
	msg := sprintf("%s was not computed%s", [name, lib.undefined_reason(name)])
	r := lib.result("evaluation.metric_threshold", msg, sprintf("evaluation.metrics.%s", [name]))
}

# Metrics where a lower value is better regress upwards.
lower_is_better := {"brier", "log_loss", "ece", "fpr", "fnr", "mae", "rmse", "mape"}

regressed(name, v, base, tol) if {
	not name in lower_is_better
	v < base - tol
}

regressed(name, v, base, tol) if {
	name in lower_is_better
	v > base + tol
}

tolerance := lib.baseline_tolerance

# METADATA
# title: No regression against the baseline
# description: >-
#   Each metric the baseline records is no worse than the baseline by more
#   than the tolerance (lower-is-better metrics such as brier, log_loss, ece,
#   fpr, fnr, mae, rmse and mape may rise by at most the tolerance).
# custom:
#   id: evaluation.baseline_regression
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: EU AI Act, id: Annex IV 6}
#     - {framework: NIST AI RMF, id: MEASURE 2.3}
#     - {framework: ISO/IEC 42001, id: A.6.2.4}
deny contains r if {
	baseline_source == "declared"
	some name, base in input.model.evaluation.baseline.metrics
	v := lib.metric(name)
	is_number(v)
	regressed(name, v, base, tolerance)
	msg := sprintf("%s is %v against the declared baseline %v%s (tolerance %v)", [
		name, lib.num(v), base, baseline_version, tolerance,
	])
	r := lib.result("evaluation.baseline_regression", msg, sprintf("evaluation.baseline.metrics.%s", [name]))
}

deny contains r if {
	baseline_source == "declared"
	some name, _ in input.model.evaluation.baseline.metrics
	not is_number(lib.metric(name))
	msg := sprintf("%s was not computed%s, so it cannot be compared with the baseline", [name, lib.undefined_reason(name)])
	r := lib.result("evaluation.baseline_regression", msg, sprintf("evaluation.baseline.metrics.%s", [name]))
}

baseline_version := sprintf(" of version %s", [v]) if {
	v := input.model.evaluation.baseline.version
	lib.nonempty(v)
} else := ""

gold := g if {
	g := input.evidence.gold
	is_object(g)
} else := {}

gold_source := object.get(input, ["data_sources", input.model.evaluation.data], {})

gold_problems contains msg if {
	count(gold) == 0
	msg := "the evidence records no gold dataset"
}

gold_problems contains msg if {
	count(gold) > 0
	gold.data_source != input.model.evaluation.data
	msg := sprintf("predictions were evaluated on %q, the spec names %q", [gold.data_source, input.model.evaluation.data])
}

gold_problems contains msg if {
	count(gold) > 0
	declared := object.get(gold_source, "version", "")
	object.get(gold, "declared_version", "") != declared
	msg := sprintf("evaluated gold version %v differs from the data source's version %v", [object.get(gold, "declared_version", null), declared])
}

gold_problems contains msg if {
	count(gold) > 0
	declared := object.get(gold_source, "version", "")
	startswith(declared, "sha256:")
	object.get(gold, "snapshot_sha256", "") != declared
	msg := sprintf("gold snapshot %v has digest %v, the data source declares %v", [
		object.get(gold, "snapshot", null), object.get(gold, "snapshot_sha256", null), declared,
	])
}

# METADATA
# title: The named gold dataset is the one evaluated
# description: >-
#   The evaluation ran on the gold data source the spec names, and the
#   snapshot evaluated has the digest the data source declares as its version.
# custom:
#   id: evaluation.gold_dataset
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(d)}
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: NIST AI RMF, id: MEASURE 2.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.4}
#     - {framework: ISO/IEC 42001, id: A.7.5}
deny contains r if {
	some msg in gold_problems
	r := lib.result("evaluation.gold_dataset", msg, "evaluation.data")
}

imbalance_covered(ms) if {
	"recall" in ms
	"precision" in ms
}

imbalance_covered(ms) if {
	"recall" in ms
	"f1" in ms
}

# METADATA
# title: Imbalanced labels need metrics beyond accuracy
# description: >-
#   When the positive rate of the gold labels is under the platform's
#   imbalancedPositiveRate (20% by default), the spec must set thresholds on
#   recall and on precision or F1, because accuracy alone rewards predicting
#   the majority class.
# custom:
#   id: evaluation.imbalanced_metrics
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 4}
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: NIST AI RMF, id: MEASURE 2.1}
#     - {framework: NIST AI RMF, id: MEASURE 2.5}
#     - {framework: ISO/IEC 42001, id: A.6.2.4}
deny contains r if {
	input.model.task == "binary-classification"
	rate := lib.metric("positive_rate")
	is_number(rate)
	limit := lib.policy.imbalancedPositiveRate
	rate < limit
	not imbalance_covered(object.keys(input.model.evaluation.metrics))
	msg := sprintf("positive rate is %v (under %v): set thresholds on recall and on precision or f1", [lib.num(rate), limit])
	r := lib.result("evaluation.imbalanced_metrics", msg, "evaluation.metrics")
}

# METADATA
# title: Evidence is for this model version
# description: >-
#   The evidence summary was computed for the model name and version the spec
#   declares, so a stale summary cannot pass a new version.
# custom:
#   id: evaluation.evidence_current
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: NIST AI RMF, id: MEASURE 2.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.4}
#     - {framework: ISO/IEC 42001, id: A.6.2.7}
deny contains r if {
	got := [object.get(input, ["evidence", "model"], null), object.get(input, ["evidence", "version"], null)]
	got != [input.model.name, input.model.version]
	msg := sprintf("evidence is for %v %v, the spec declares %s %s", [got[0], got[1], input.model.name, input.model.version])
	r := lib.result("evaluation.evidence_current", msg, "version")
}

# The imbalance rule judges only binary classifiers whose positive rate is
# under the limit; for the others it says so, and its silence is not
# evidence that the metrics fit the data.
not_applicable contains r if {
	input.model.task != "binary-classification"
	r := lib.result("evaluation.imbalanced_metrics", sprintf("task %s is not binary classification", [input.model.task]), "task")
}

not_applicable contains r if {
	input.model.task == "binary-classification"
	rate := lib.metric("positive_rate")
	is_number(rate)
	limit := lib.policy.imbalancedPositiveRate
	rate >= limit
	msg := sprintf("positive rate is %v, not under %v: classes are not imbalanced", [lib.num(rate), limit])
	r := lib.result("evaluation.imbalanced_metrics", msg, "evaluation.metrics")
}

# METADATA
# title: Models that affect people set metric thresholds
# description: >-
#   A model whose intended use says it affects people must bound at least one
#   evaluation metric: with none, nothing measured can stop it.
# custom:
#   id: evaluation.thresholds_declared
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: EU AI Act, id: Annex IV 3}
#     - {framework: NIST AI RMF, id: MEASURE 2.3}
#     - {framework: ISO/IEC 42001, id: A.6.2.4}
deny contains r if {
	input.model.intendedUse.affectsPeople == true
	count(object.get(input.model, ["evaluation", "metrics"], {})) == 0
	r := lib.result("evaluation.thresholds_declared", "the model affects people but bounds no evaluation metric (evaluation.metrics is empty)", "evaluation.metrics")
}

# METADATA
# title: The gold set is held out from training
# description: >-
#   The gold data source the model is evaluated on is not one the model was
#   trained on: a score on training data says nothing about new cases.
# custom:
#   id: evaluation.held_out
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(d)}
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: NIST AI RMF, id: MEASURE 2.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.4}
#     - {framework: ISO/IEC 42001, id: A.7.4}
deny contains r if {
	some i, name in object.get(input.model, ["training", "data"], [])
	name == input.model.evaluation.data
	msg := sprintf("evaluation.data %q is also training.data[%d]: the model is evaluated on data it was trained on", [name, i])
	r := lib.result("evaluation.held_out", msg, "evaluation.data")
}

# measured_baseline is the baseline Slipway evaluated itself, or null.
measured_baseline := b if {
	b := input.evidence.baseline
	is_object(b)
} else := null

# METADATA
# title: Baselines are measured in protected environments
# description: >-
#   In a protected environment the baseline a model is compared with is
#   measured by Slipway (evaluation.baseline.predictions, the champion's
#   predictions on the same gold set), not typed into the spec:
#   evaluation.baseline.metrics are only declared.
# custom:
#   id: evaluation.baseline_required
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: EU AI Act, id: Annex IV 6}
#     - {framework: NIST AI RMF, id: MEASURE 2.13}
#     - {framework: ISO/IEC 42001, id: A.6.2.4}
deny contains r if {
	lib.protected
	baseline_source == "declared"
	msg := sprintf("the baseline metrics %s are declared in the spec, not measured: give evaluation.baseline.predictions (the champion's predictions on the gold set)", [concat(", ", sort(object.keys(input.model.evaluation.baseline.metrics)))])
	r := lib.result("evaluation.baseline_required", msg, "evaluation.baseline.metrics")
}

# Against a measured baseline, every bounded metric is compared.
deny contains r if {
	baseline_source == "measured"
	some name, _ in input.model.evaluation.metrics
	base := object.get(measured_baseline, ["overall", name], null)
	is_number(base)
	v := lib.metric(name)
	is_number(v)
	regressed(name, v, base, tolerance)
	msg := sprintf("%s is %v against the measured baseline %v of %s (tolerance %v)", [
		name, lib.num(v), lib.num(base), measured_baseline.predictions, tolerance,
	])
	r := lib.result("evaluation.baseline_regression", msg, "evaluation.baseline.predictions")
}

# baseline_kind is where the baseline comes from: the champion's
# predictions Slipway evaluated, metrics typed into the spec, or (the
# default, evaluation.baseline {release: "previous"}) the signed headline
# metrics of the model's previous release in this environment.
baseline_kind := "measured" if {
	is_object(measured_baseline)
} else := "declared" if {
	count(object.get(input.model, ["evaluation", "baseline", "metrics"], {})) > 0
} else := "release"

previous_release := object.get(input, "previous_release", null)

# baseline_source is what the unit's metrics are compared with, as the
# baseline rules below decide it and the check result reports it
# (checkresult's Baseline* constants): baseline_kind, told apart for a
# release baseline into the first release (none) and a previous release
# the trusted keys do not verify (unverified).
baseline_source := "none" if {
	baseline_kind == "release"
	previous_release == null
} else := "unverified" if {
	baseline_kind == "release"
	previous_release.verified != true
} else := baseline_kind

facts["baseline_source"] := baseline_source

# Against the previous release, every bounded metric its signed evidence
# records is compared.
deny contains r if {
	baseline_source == "release"
	some name, _ in input.model.evaluation.metrics
	base := object.get(previous_release, ["headline", name], null)
	is_number(base)
	v := lib.metric(name)
	is_number(v)
	regressed(name, v, base, tolerance)
	msg := sprintf("%s is %v against %v signed in release %s (%s, tolerance %v)", [
		name, lib.num(v), lib.num(base), previous_release.version, previous_release.record, tolerance,
	])
	r := lib.result("evaluation.baseline_regression", msg, sprintf("evaluation.metrics.%s", [name]))
}

# A previous release the trusted keys do not verify is no baseline: what
# it says cannot be told from what someone wrote into the ledger.
deny contains r if {
	baseline_source == "unverified"
	msg := sprintf("the previous release %s (%s) does not verify with the platform's trusted keys: its metrics cannot be the baseline", [previous_release.version, previous_release.record])
	r := lib.insufficient("evaluation.baseline_regression", msg, "evaluation.baseline")
}

# A first release has nothing to be compared with, and says so.
not_applicable contains r if {
	baseline_source == "none"
	msg := sprintf("no baseline yet: the ledger records no earlier release of %s in %s", [input.model.name, input.environment.name])
	r := lib.result("evaluation.baseline_regression", msg, "evaluation.baseline")
}

integrity := i if {
	i := input.evidence.evaluation.integrity
	is_object(i)
} else := null

min_gold_coverage := lib.policy.minGoldCoverage

# METADATA
# title: The predictions cover the gold set
# description: >-
#   Joined on the gold data source's quality.uniqueKeys, the predictions
#   cover at least the platform's policy.minGoldCoverage (all, by default)
#   of the gold rows, and every prediction row has a key of the gold set.
# custom:
#   id: evaluation.gold_coverage
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(d)}
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: NIST AI RMF, id: MEASURE 2.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.4}
deny contains r if {
	is_object(integrity)
	integrity.coverage < min_gold_coverage
	msg := sprintf("the predictions cover %d of %d gold rows (%v), under policy.minGoldCoverage %v", [integrity.covered, integrity.gold_rows, lib.num(integrity.coverage), min_gold_coverage])
	r := lib.result("evaluation.gold_coverage", msg, "evaluation.predictions")
}

deny contains r if {
	is_object(integrity)
	integrity.unknown_keys > 0
	msg := sprintf("%d of %d prediction rows have a key (%s) that is not in the gold set", [integrity.unknown_keys, integrity.prediction_rows, concat(", ", integrity.keys)])
	r := lib.result("evaluation.gold_coverage", msg, "evaluation.predictions")
}

# METADATA
# title: The predictions carry the gold labels
# description: >-
#   Joined on the gold data source's quality.uniqueKeys, every prediction
#   row's label is the gold row's label: a relabelled gold set is not the
#   gold set.
# custom:
#   id: evaluation.label_mismatch
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(d)}
#     - {framework: NIST AI RMF, id: MEASURE 2.1}
#     - {framework: ISO/IEC 42001, id: A.7.4}
deny contains r if {
	is_object(integrity)
	integrity.label_mismatches > 0
	msg := sprintf("%d prediction rows carry a label that differs from the gold label", [integrity.label_mismatches])
	r := lib.result("evaluation.label_mismatch", msg, "evaluation.columns.label")
}

deny contains r if {
	is_object(integrity)
	some name, n in integrity.training_overlap
	n > 0
	msg := sprintf("%d rows of training source %q have a key of the gold set: the gold set is not held out", [n, name])
	r := lib.result("evaluation.held_out", msg, "evaluation.data")
}
