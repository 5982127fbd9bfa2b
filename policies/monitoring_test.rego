package slipway.monitoring_test

import data.slipway.fixtures_test as fx
import data.slipway.monitoring

ids(set) := {r.id | some r in set}

msgs(doc) := {r.msg | some r in monitoring.deny with input as doc}

group(n, tp, fp) := {"count": n, "tp": tp, "fp": fp}

# figures are a healthy monitor run's: no drift, live metrics within
# bounds and near the signed figures, fairness within the thresholds.
figures := {
	"window": {"from": "2026-11-22T10:00:00Z", "to": "2026-11-23T10:00:00Z"},
	"rows": 5000,
	"drift": {
		"income": {"kind": "numeric", "psi": 0.03, "ks": 0.02},
		"loan_amount": {"kind": "numeric", "psi": 0.05, "ks": 0.04},
	},
	"versions": {"1.4.0": {"requests": 5000, "share": 1, "released": true}},
	"outcomes": {
		"labelled": 4000,
		"overall": {"count": 4000, "roc_auc": 0.8, "recall": 0.7, "precision": 0.6},
		"fairness": {
			"sex": {"demographic_parity_difference": 0.02, "equal_opportunity_difference": 0.03},
			"age_band": {"demographic_parity_difference": 0.04, "equal_opportunity_difference": 0.05},
		},
	},
	"release": {"version": "1.4.0", "released_at": "2026-11-01T00:00:00Z", "age_days": 22.4, "headline": {"roc_auc": 0.805}},
}

healthy := json.patch(fx.unit, [
	{"op": "replace", "path": "/kind", "value": "monitoring"},
	{"op": "add", "path": "/monitoring", "value": figures},
	{"op": "add", "path": "/model/monitoring/retrain", "value": {"maxAgeDays": 90}},
])

patched(ops) := json.patch(healthy, ops)

only(doc, id) if ids(monitoring.deny) == {id} with input as doc

test_healthy_passes if {
	count(monitoring.deny) == 0 with input as healthy
}

test_drift_flags_only_the_drifted_feature if {
	doc := patched([{"op": "replace", "path": "/monitoring/drift/income/psi", "value": 0.41}])
	only(doc, "monitoring.drift")
	msgs(doc) == {"feature income drifted: psi 0.41 > threshold 0.2"}
	some r in monitoring.deny with input as doc
	r.field == "monitoring.drift.features[0]"
}

test_drift_ks_metric if {
	doc := patched([
		{"op": "replace", "path": "/model/monitoring/drift/metric", "value": "ks"},
		{"op": "replace", "path": "/monitoring/drift/loan_amount/ks", "value": 0.3},
	])
	msgs(doc) == {"feature loan_amount drifted: ks 0.3 > threshold 0.2"}
}

test_drift_undefined_is_insufficient if {
	doc := patched([{"op": "replace", "path": "/monitoring/drift/income", "value": {"kind": "numeric", "psi": null, "undefined": {"psi": "no non-null values in the window"}}}])
	msgs(doc) == {"insufficient evidence: psi of feature income is undefined (no non-null values in the window)"}
}

test_empty_window_is_insufficient_never_pass if {
	doc := patched([
		{"op": "replace", "path": "/monitoring/rows", "value": 0},
		{"op": "replace", "path": "/monitoring/outcomes/labelled", "value": 0},
	])
	ids(monitoring.deny) == {"monitoring.drift", "monitoring.performance", "monitoring.fairness"} with input as doc
	"insufficient evidence: 0 request(s) in the window, fewer than minRows 100" in msgs(doc)
	"insufficient evidence: 0 labelled request(s) in the window, fewer than minRows 100" in msgs(doc)
}

test_no_outcomes_is_insufficient if {
	doc := patched([{"op": "replace", "path": "/monitoring/outcomes", "value": null}])
	ids(monitoring.deny) == {"monitoring.performance", "monitoring.fairness"} with input as doc
}

test_performance_below_threshold if {
	doc := patched([
		{"op": "replace", "path": "/monitoring/outcomes/overall/recall", "value": 0.5},
	])
	only(doc, "monitoring.performance")
	msgs(doc) == {"live recall is 0.5, threshold >= 0.6"}
}

test_performance_below_signed_figure if {
	doc := patched([{"op": "replace", "path": "/monitoring/outcomes/overall/roc_auc", "value": 0.78}])
	msgs(doc) == {"live roc_auc is 0.78, below the signed release figure 0.805 minus tolerance 0.01"}
}

test_performance_undefined if {
	doc := patched([
		{"op": "replace", "path": "/monitoring/outcomes/overall/precision", "value": null},
		{"op": "add", "path": "/monitoring/outcomes/overall/undefined", "value": {"precision": "no positive predictions"}},
	])
	msgs(doc) == {"insufficient evidence: live precision is undefined (no positive predictions)"}
}

test_fairness_breach if {
	doc := patched([{"op": "replace", "path": "/monitoring/outcomes/fairness/sex/demographic_parity_difference", "value": 0.2}])
	only(doc, "monitoring.fairness")
	msgs(doc) == {"live demographic_parity_difference for sex is 0.2, threshold <= 0.1"}
}

test_fairness_small_groups_insufficient if {
	doc := patched([{"op": "replace", "path": "/monitoring/outcomes/fairness/age_band", "value": {
		"demographic_parity_difference": null, "equal_opportunity_difference": null,
		"undefined": {"demographic_parity_difference": "fewer than 2 groups of at least 30 rows"},
	}}])
	only(doc, "monitoring.fairness")
	"insufficient evidence: live demographic_parity_difference for age_band is undefined (fewer than 2 groups of at least 30 rows)" in msgs(doc)
	"insufficient evidence: live equal_opportunity_difference for age_band is undefined (not computed)" in msgs(doc)
}

test_model_age if {
	doc := patched([{"op": "replace", "path": "/monitoring/release/age_days", "value": 120.5}])
	only(doc, "monitoring.model_age")
	msgs(doc) == {"release 1.4.0 is 120 day(s) old, more than retrain.maxAgeDays 90: retrain and release a new version"}
}

test_model_age_without_release if {
	doc := patched([{"op": "replace", "path": "/monitoring/release", "value": null}])
	only(doc, "monitoring.model_age")
}

test_unreleased_version if {
	doc := patched([{"op": "replace", "path": "/monitoring/versions", "value": {
		"1.4.0": {"requests": 4500, "share": 0.9, "released": true},
		"1.5.0-rc1": {"requests": 500, "share": 0.1, "released": false},
	}}])
	only(doc, "monitoring.unreleased_version")
	msgs(doc) == {"500 request(s) (10% of the window) served by version 1.5.0-rc1, which no verified release in production covers"}
}

test_version_after_rollback if {
	doc := patched([{"op": "replace", "path": "/monitoring/versions", "value": {
		"1.4.0": {"requests": 4000, "share": 0.8, "released": true},
		"1.5.0": {"requests": 1000, "share": 0.2, "released": true, "after_rollback": 300, "rolled_back_to": "1.4.0", "rolled_back_at": "2026-11-22T10:00:00Z"},
	}}])
	only(doc, "monitoring.unreleased_version")
	msgs(doc) == {"300 request(s) served by version 1.5.0 after the rollback to 1.4.0 at 2026-11-22T10:00:00Z; since then no verified release in production covers it"}
}

# The freshness decision (overdue) is made once, in Go (monitor.Status);
# the rule reads it and words it.
status(last, overdue) := json.patch(fx.unit, [{"op": "add", "path": "/monitoring_status", "value": {
	"last": last, "max_gap_seconds": 90000, "since": "2026-11-01T00:00:00Z", "overdue": overdue,
}}])

test_fresh_within_schedule if {
	count({r | some r in monitoring.deny; r.id == "monitoring.fresh"}) == 0 with input as status("2026-11-23T00:00:00Z", false)
}

test_fresh_stale if {
	doc := status("2026-11-20T00:00:00Z", true)
	only(doc, "monitoring.fresh")
	msgs(doc) == {"last monitored 2026-11-20T00:00:00Z, 82 hour(s) ago; the schedule \"@daily\" plus slack allows 25"}
}

test_fresh_never_monitored if {
	doc := status("", true)
	only(doc, "monitoring.fresh")
}

test_fresh_not_judged_without_status if {
	count(monitoring.deny) == 0 with input as fx.unit
}

test_performance_score_metrics_not_judged_live if {
	doc := patched([{"op": "add", "path": "/model/evaluation/metrics/ece", "value": {"max": 0.1}}])
	count(monitoring.deny) == 0 with input as doc
}
