package slipway.evaluation_test

import data.slipway.evaluation
import data.slipway.fixtures_test as fx

ids(set) := {r.id | some r in set}

test_passing_unit_has_no_deny if {
	count(evaluation.deny) == 0 with input as fx.unit
}

test_metric_below_threshold if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/evaluation/overall/roc_auc", "value": 0.7}])
	some r in evaluation.deny with input as doc
	r.id == "evaluation.metric_threshold"
	r.field == "evaluation.metrics.roc_auc"
	contains(r.msg, "roc_auc is 0.7, threshold >= 0.75")
}

test_metric_above_max if {
	doc := fx.with_patch([
		{"op": "add", "path": "/model/evaluation/metrics/brier", "value": {"max": 0.1}},
	])
	some r in evaluation.deny with input as doc
	r.field == "evaluation.metrics.brier"
}

test_metric_not_computed if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/evidence/evaluation/overall/recall", "value": null},
		{"op": "add", "path": "/evidence/evaluation/undefined", "value": {"recall": "no positive labels"}},
	])
	some r in evaluation.deny with input as doc
	r.msg == "recall was not computed (no positive labels)"
}

test_missing_evidence_fails_closed if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence", "value": null}])
	found := ids(evaluation.deny) with input as doc
	"evaluation.metric_threshold" in found
	"evaluation.gold_dataset" in found
	"evaluation.evidence_current" in found
}

# declared is the unit outside a protected environment with only the
# baseline the spec types in.
declared(ops) := fx.with_patch(array.concat(
	[{"op": "remove", "path": "/evidence/baseline"}, {"op": "replace", "path": "/environment", "value": fx.staging}],
	ops,
))

test_baseline_regression if {
	doc := declared([{"op": "replace", "path": "/evidence/evaluation/overall/roc_auc", "value": 0.765}])
	some r in evaluation.deny with input as doc
	r.id == "evaluation.baseline_regression"
	r.field == "evaluation.baseline.metrics.roc_auc"
}

test_baseline_within_tolerance if {
	doc := declared([{"op": "replace", "path": "/evidence/evaluation/overall/roc_auc", "value": 0.775}])
	not "evaluation.baseline_regression" in ids(evaluation.deny) with input as doc
}

test_baseline_lower_is_better if {
	doc := declared([{"op": "replace", "path": "/evidence/evaluation/overall/brier", "value": 0.2}])
	some r in evaluation.deny with input as doc
	r.id == "evaluation.baseline_regression"
	r.field == "evaluation.baseline.metrics.brier"
}

test_baseline_metric_missing if {
	doc := declared([{"op": "remove", "path": "/evidence/evaluation/overall/brier"}])
	"evaluation.baseline_regression" in ids(evaluation.deny) with input as doc
}

test_gold_digest_mismatch if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/gold/snapshot_sha256", "value": fx.digest_a}])
	some r in evaluation.deny with input as doc
	r.id == "evaluation.gold_dataset"
	r.field == "evaluation.data"
}

test_gold_wrong_source if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/gold/data_source", "value": "other"}])
	"evaluation.gold_dataset" in ids(evaluation.deny) with input as doc
}

test_gold_declared_version_stale if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/gold/declared_version", "value": fx.digest_a}])
	"evaluation.gold_dataset" in ids(evaluation.deny) with input as doc
}

test_imbalanced_needs_recall_and_precision if {
	doc := fx.with_patch([
		{"op": "remove", "path": "/model/evaluation/metrics/precision"},
	])
	"evaluation.imbalanced_metrics" in ids(evaluation.deny) with input as doc
}

test_imbalanced_f1_is_enough if {
	doc := fx.with_patch([
		{"op": "remove", "path": "/model/evaluation/metrics/precision"},
		{"op": "add", "path": "/model/evaluation/metrics/f1", "value": {"min": 0.5}},
	])
	not "evaluation.imbalanced_metrics" in ids(evaluation.deny) with input as doc
}

test_balanced_labels_need_no_extra_metrics if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/evidence/evaluation/overall/positive_rate", "value": 0.4},
		{"op": "replace", "path": "/model/evaluation/metrics", "value": {"roc_auc": {"min": 0.7}}},
	])
	not "evaluation.imbalanced_metrics" in ids(evaluation.deny) with input as doc
	"evaluation.imbalanced_metrics" in ids(evaluation.not_applicable) with input as doc
}

test_imbalanced_rule_applies_under_the_limit if {
	not "evaluation.imbalanced_metrics" in ids(evaluation.not_applicable) with input as fx.with_patch([])
}

test_platform_imbalance_limit if {
	doc := fx.with_patch([
		{"op": "add", "path": "/platform/policy/imbalancedPositiveRate", "value": 0.1},
		{"op": "remove", "path": "/model/evaluation/metrics/precision"},
	])
	not "evaluation.imbalanced_metrics" in ids(evaluation.deny) with input as doc
}

test_stale_evidence if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/version", "value": "1.3.0"}])
	some r in evaluation.deny with input as doc
	r.id == "evaluation.evidence_current"
	r.field == "version"
}

test_metric_interval_crossing_is_insufficient_evidence if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/evaluation/ci/overall/recall", "value": [0.58, 0.71]}])
	some r in evaluation.deny with input as doc
	r.id == "evaluation.metric_threshold"
	r.outcome == "insufficient_evidence"
	r.msg == "recall is 0.66, within >= 0.6, but its 95% interval [0.58, 0.71] crosses the bound (decided on the interval)"
}

test_metric_without_interval_is_insufficient_in_protected if {
	doc := fx.with_patch([{"op": "remove", "path": "/evidence/evaluation/ci/overall/roc_auc"}])
	some r in evaluation.deny with input as doc
	r.outcome == "insufficient_evidence"
	doc2 := json.patch(doc, [{"op": "replace", "path": "/model/evaluation/metrics/roc_auc", "value": {"min": 0.75, "decideOn": "estimate"}}])
	count(evaluation.deny) == 0 with input as doc2
}

test_affects_people_needs_thresholds if {
	doc := fx.with_patch([{"op": "replace", "path": "/model/evaluation/metrics", "value": {}}])
	"evaluation.thresholds_declared" in ids(evaluation.deny) with input as doc
	doc2 := json.patch(doc, [{"op": "replace", "path": "/model/intendedUse/affectsPeople", "value": false}])
	not "evaluation.thresholds_declared" in ids(evaluation.deny) with input as doc2
}

test_gold_named_in_training_is_not_held_out if {
	doc := fx.with_patch([{"op": "replace", "path": "/model/training/data", "value": ["applications", "applications-gold"]}])
	some r in evaluation.deny with input as doc
	r.id == "evaluation.held_out"
	r.field == "evaluation.data"
	r.msg == "evaluation.data \"applications-gold\" is also training.data[1]: the model is evaluated on data it was trained on"
}

test_declared_baseline_denies_in_protected if {
	doc := fx.with_patch([{"op": "remove", "path": "/evidence/baseline"}])
	ids(evaluation.deny) == {"evaluation.baseline_required"} with input as doc
	staging := json.patch(doc, [{"op": "replace", "path": "/environment", "value": fx.staging}])
	count({r | some r in evaluation.deny with input as staging; r.id == "evaluation.baseline_required"}) == 0
}

test_measured_baseline_regression if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/baseline/overall/recall", "value": 0.7}])
	some r in evaluation.deny with input as doc
	r.id == "evaluation.baseline_regression"
	r.field == "evaluation.baseline.predictions"
	r.msg == "recall is 0.66 against the measured baseline 0.7 of models/credit-default/champion.csv (tolerance 0.01)"
}

integrity_ok := {"keys": ["application_id"], "gold_rows": 2000, "prediction_rows": 2000, "unknown_keys": 0, "covered": 2000, "coverage": 1, "label_mismatches": 0, "training_overlap": {"applications": 0}}

with_integrity(patch) := fx.with_patch([{"op": "add", "path": "/evidence/evaluation/integrity", "value": object.union(integrity_ok, patch)}])

test_integrity_clean_passes if {
	count(evaluation.deny) == 0 with input as with_integrity({})
}

test_predictions_not_in_gold if {
	doc := with_integrity({"unknown_keys": 2000, "covered": 0, "coverage": 0})
	msgs := {r.msg | some r in evaluation.deny with input as doc; r.id == "evaluation.gold_coverage"}
	msgs == {
		"the predictions cover 0 of 2000 gold rows (0), under policy.minGoldCoverage 1",
		"2000 of 2000 prediction rows have a key (application_id) that is not in the gold set",
	}
}

test_gold_coverage_platform_minimum if {
	doc := json.patch(with_integrity({"covered": 1960, "coverage": 0.98}), [{"op": "add", "path": "/platform/policy/minGoldCoverage", "value": 0.95}])
	count(evaluation.deny) == 0 with input as doc
	ids(evaluation.deny) == {"evaluation.gold_coverage"} with input as with_integrity({"covered": 1960, "coverage": 0.98})
}

test_label_mismatch if {
	ids(evaluation.deny) == {"evaluation.label_mismatch"} with input as with_integrity({"label_mismatches": 3})
}

test_gold_keys_in_training if {
	some r in evaluation.deny with input as with_integrity({"training_overlap": {"applications": 40}})
	r.id == "evaluation.held_out"
	r.msg == "40 rows of training source \"applications\" have a key of the gold set: the gold set is not held out"
}

# previous is the unit with no baseline in the spec: the default,
# {release: "previous"}.
previous(release) := fx.with_patch([
	{"op": "remove", "path": "/evidence/baseline"},
	{"op": "remove", "path": "/model/evaluation/baseline"},
	{"op": "add", "path": "/previous_release", "value": release},
])

signed_release := {"version": "1.3.0", "record": "releases/production/credit-default/1.3.0.intoto.json", "released_at": "2026-10-01T00:00:00Z", "verified": true, "headline": {"roc_auc": 0.83, "recall": 0.6, "accuracy": null}}

test_first_release_has_no_baseline_yet if {
	doc := previous(null)
	count({r | some r in evaluation.deny with input as doc; r.id == "evaluation.baseline_regression"}) == 0
	some r in evaluation.not_applicable with input as doc
	r.id == "evaluation.baseline_regression"
	r.msg == "no baseline yet: the ledger records no earlier release of credit-default in production"
}

test_previous_release_regression if {
	doc := previous(signed_release)
	msgs := {r.msg | some r in evaluation.deny with input as doc; r.id == "evaluation.baseline_regression"}
	msgs == {"roc_auc is 0.81 against 0.83 signed in release 1.3.0 (releases/production/credit-default/1.3.0.intoto.json, tolerance 0.01)"}
	count({r | some r in evaluation.not_applicable with input as doc; r.id == "evaluation.baseline_regression"}) == 0
}

test_previous_release_within_tolerance if {
	doc := previous(json.patch(signed_release, [{"op": "replace", "path": "/headline/roc_auc", "value": 0.815}]))
	count({r | some r in evaluation.deny with input as doc; r.id == "evaluation.baseline_regression"}) == 0
}

test_previous_release_unverified_is_insufficient if {
	doc := previous(json.patch(signed_release, [{"op": "replace", "path": "/verified", "value": false}, {"op": "replace", "path": "/headline", "value": {}}]))
	some r in evaluation.deny with input as doc
	r.id == "evaluation.baseline_regression"
	r.outcome == "insufficient_evidence"
}

test_declared_metrics_win_over_previous_release if {
	doc := json.patch(fx.with_patch([{"op": "remove", "path": "/evidence/baseline"}]), [{"op": "add", "path": "/previous_release", "value": signed_release}])
	some r in evaluation.deny with input as doc
	r.id == "evaluation.baseline_required"
	count({r | some r in evaluation.deny with input as doc; contains(r.msg, "signed in release")}) == 0
}
