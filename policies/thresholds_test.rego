package slipway.policy_test

import data.slipway.fixtures_test as fx
import data.slipway.policy

base_of(model) := {"model": model, "policy": fx.platform.policy, "risk_owners": ["carol", "@acme/risk"], "approved_by": []}

# changed is the unit whose base is the fixture model, with ops applied to
# the unit (the change).
changed(ops) := json.patch(object.union(fx.unit, {"base": base_of(fx.model)}), ops)

test_unchanged_thresholds_pass if {
	count(policy.deny) == 0 with input as changed([])
}

test_lowered_metric_bound_denies if {
	doc := changed([{"op": "replace", "path": "/model/evaluation/metrics/recall", "value": {"min": 0.5}}])
	denies := policy.deny with input as doc
	count(denies) == 1
	some r in denies
	r.id == "policy.threshold_loosened"
	r.field == "evaluation.metrics.recall"
	r.msg == "evaluation.metrics.recall loosened from >= 0.6 to >= 0.5: no approval by a risk owner (carol, @acme/risk)"
}

test_risk_owner_approval_lifts if {
	doc := changed([
		{"op": "replace", "path": "/model/evaluation/metrics/recall", "value": {"min": 0.5}},
		{"op": "replace", "path": "/base/approved_by", "value": ["carol"]},
	])
	count(policy.deny) == 0 with input as doc
}

test_every_kind_of_loosening if {
	doc := changed([
		{"op": "remove", "path": "/model/evaluation/metrics/precision"},
		{"op": "replace", "path": "/model/fairness/thresholds/demographic_parity_difference", "value": {"max": 0.1, "decideOn": "estimate"}},
		{"op": "replace", "path": "/model/fairness/minGroupSize", "value": 10},
		{"op": "replace", "path": "/model/evaluation/baseline/tolerance", "value": 0.05},
		{"op": "replace", "path": "/model/monitoring/drift/threshold", "value": 0.3},
		{"op": "add", "path": "/base/policy/minGoldCoverage", "value": 1},
		{"op": "add", "path": "/platform/policy/minGoldCoverage", "value": 0.9},
	])
	fields := {object.get(r, "field", object.get(r, "path", "")) | some r in policy.deny with input as doc}
	fields == {
		"evaluation.metrics.precision", "fairness.thresholds.demographic_parity_difference",
		"fairness.minGroupSize", "evaluation.baseline.tolerance", "monitoring.drift.threshold", "platform.policy.minGoldCoverage",
	}
}

test_tightening_is_fine if {
	doc := changed([{"op": "replace", "path": "/model/evaluation/metrics/recall", "value": {"min": 0.7}}])
	count(policy.deny) == 0 with input as doc
}

test_unknown_reviews_deny_only_in_protected if {
	doc := changed([
		{"op": "replace", "path": "/model/evaluation/metrics/recall", "value": {"min": 0.5}},
		{"op": "replace", "path": "/base/approved_by", "value": null},
	])
	count(policy.deny) == 1 with input as doc
	staging := json.patch(doc, [{"op": "replace", "path": "/environment", "value": fx.staging}])
	count(policy.deny) == 0 with input as staging
}

test_no_base_no_finding if {
	doc := json.patch(fx.unit, [{"op": "replace", "path": "/model/evaluation/metrics/recall", "value": {"min": 0.5}}])
	count(policy.deny) == 0 with input as doc
}

# A pull request's base that could not be read leaves loosening undecided:
# a denial in a protected environment (fx.unit is production), a warning
# elsewhere, never a pass.
unknown_base := json.patch(fx.unit, [{"op": "add", "path": "/base", "value": {"unknown": "the pull request's base commit abc cannot be read"}}])

test_base_unknown_denies_in_protected if {
	msgs := {r.msg | some r in policy.deny with input as unknown_base; r.id == "policy.threshold_loosened"}
	msgs == {"the pull request's base commit abc cannot be read, so a loosened threshold cannot be ruled out: insufficient evidence"}
}

test_base_unknown_warns_elsewhere if {
	doc := json.patch(unknown_base, [{"op": "replace", "path": "/environment", "value": fx.staging}])
	count(policy.deny) == 0 with input as doc
	count({r | some r in policy.warn with input as doc; r.id == "policy.threshold_loosened"}) == 1
}

test_removed_drift_threshold_loosens if {
	doc := changed([{"op": "remove", "path": "/model/monitoring/drift/threshold"}])
	policy.loosened == {["monitoring.drift.threshold", 0.2, 0]} with input as doc
}

test_lowered_drift_threshold_is_fine if {
	doc := changed([{"op": "replace", "path": "/model/monitoring/drift/threshold", "value": 0.1}])
	count(policy.loosened) == 0 with input as doc
}

# Every field a loosened finding names lies under one of threshold_fields
# (or is the platform's policy, which the base carries): the audit report
# asks about a pair of releases only when one of those fields changed.
test_threshold_fields_cover_every_loosening if {
	doc := changed([
		{"op": "remove", "path": "/model/evaluation/metrics/precision"},
		{"op": "replace", "path": "/model/fairness/thresholds/demographic_parity_difference", "value": {"max": 0.25}},
		{"op": "replace", "path": "/model/fairness/minGroupSize", "value": 10},
		{"op": "replace", "path": "/model/evaluation/baseline/tolerance", "value": 0.05},
		{"op": "replace", "path": "/model/monitoring/drift/threshold", "value": 0.3},
	])
	found := policy.loosened with input as doc
	count(found) == 5
	every c in found {
		some f in policy.threshold_fields
		startswith(c[0], f)
	}
}

# A model that sets no value of its own is bounded by the platform's
# defaults: loosening them is loosening the model.
test_loosened_platform_defaults if {
	doc := changed([
		{"op": "remove", "path": "/model/evaluation/baseline/tolerance"},
		{"op": "replace", "path": "/model/monitoring/drift/threshold", "value": 0},
		{"op": "remove", "path": "/model/fairness/thresholds"},
		{"op": "remove", "path": "/model/fairness/minGroupSize"},
		{"op": "replace", "path": "/base/model", "value": json.patch(fx.model, [
			{"op": "remove", "path": "/evaluation/baseline/tolerance"},
			{"op": "replace", "path": "/monitoring/drift/threshold", "value": 0},
			{"op": "remove", "path": "/fairness/thresholds"},
			{"op": "remove", "path": "/fairness/minGroupSize"},
		])},
		{"op": "add", "path": "/platform/policy/baselineTolerance", "value": 0.05},
		{"op": "add", "path": "/platform/policy/driftThreshold", "value": 0.5},
		{"op": "add", "path": "/platform/policy/minGroupSize", "value": 10},
		{"op": "add", "path": "/platform/policy/fairness", "value": {"demographic_parity_difference": {"max": 0.2}}},
	])
	msgs := {r.msg | some r in policy.deny with input as doc}
	msgs == {
		"policy.baselineTolerance loosened from 0.01 to 0.05: no approval by a risk owner (carol, @acme/risk)",
		"policy.driftThreshold loosened from 0.2 to 0.5: no approval by a risk owner (carol, @acme/risk)",
		"policy.minGroupSize loosened from 30 to 10: no approval by a risk owner (carol, @acme/risk)",
		"policy.fairness.demographic_parity_difference loosened from <= 0.1 to <= 0.2: no approval by a risk owner (carol, @acme/risk)",
	}
}

# A model with values of its own is not loosened by the platform's.
test_platform_defaults_unused_by_the_model if {
	doc := changed([
		{"op": "add", "path": "/platform/policy/baselineTolerance", "value": 0.05},
		{"op": "add", "path": "/platform/policy/driftThreshold", "value": 0.5},
		{"op": "add", "path": "/platform/policy/minGroupSize", "value": 10},
		{"op": "add", "path": "/platform/policy/fairness", "value": {"demographic_parity_difference": {"max": 0.2}}},
	])
	count(policy.deny) == 0 with input as doc
}

# A base that could not be read has no policy: the platform's defaults
# are not compared (base_unknown reports it), and nothing errs.
test_base_unknown_compares_no_defaults if {
	doc := json.patch(unknown_base, [
		{"op": "add", "path": "/base/policy", "value": null},
		{"op": "add", "path": "/base/model", "value": null},
		{"op": "add", "path": "/platform/policy/baselineTolerance", "value": 0.05},
	])
	count(policy.loosened) == 0 with input as doc
}

# unset_base is the unit whose base model sets no minGroupSize or baseline
# tolerance of its own, under a platform whose are 50 and 0.005 (stricter
# than the schema's): the model was bound by those.
unset_base(ops) := json.patch(
	changed([
		{"op": "remove", "path": "/model/evaluation/baseline/tolerance"},
		{"op": "remove", "path": "/model/fairness/minGroupSize"},
		{"op": "replace", "path": "/base/model", "value": json.patch(fx.model, [
			{"op": "remove", "path": "/evaluation/baseline/tolerance"},
			{"op": "remove", "path": "/fairness/minGroupSize"},
		])},
		{"op": "add", "path": "/base/policy/minGroupSize", "value": 50},
		{"op": "add", "path": "/base/policy/baselineTolerance", "value": 0.005},
		{"op": "add", "path": "/platform/policy/minGroupSize", "value": 50},
		{"op": "add", "path": "/platform/policy/baselineTolerance", "value": 0.005},
	]),
	ops,
)

# A model that relied on the platform's values and now sets looser ones
# of its own loosens them, though its spec had no value to compare with.
test_unset_to_looser_explicit_loosens if {
	doc := unset_base([
		{"op": "add", "path": "/model/fairness/minGroupSize", "value": 30},
		{"op": "add", "path": "/model/evaluation/baseline/tolerance", "value": 0.01},
	])
	msgs := {r.msg | some r in policy.deny with input as doc}
	msgs == {
		"fairness.minGroupSize loosened from 50 to 30: no approval by a risk owner (carol, @acme/risk)",
		"evaluation.baseline.tolerance loosened from 0.005 to 0.01: no approval by a risk owner (carol, @acme/risk)",
	}
}

test_unset_to_stricter_explicit_is_fine if {
	doc := unset_base([
		{"op": "add", "path": "/model/fairness/minGroupSize", "value": 60},
		{"op": "add", "path": "/model/evaluation/baseline/tolerance", "value": 0},
	])
	count(policy.deny) == 0 with input as doc
	count(policy.deny) == 0 with input as unset_base([])
}

# Dropping its own value for the platform's looser one loosens the model.
test_explicit_to_looser_platform_loosens if {
	doc := changed([
		{"op": "remove", "path": "/model/evaluation/baseline/tolerance"},
		{"op": "remove", "path": "/model/fairness/minGroupSize"},
		{"op": "add", "path": "/platform/policy/minGroupSize", "value": 20},
		{"op": "add", "path": "/platform/policy/baselineTolerance", "value": 0.02},
		{"op": "add", "path": "/base/policy/minGroupSize", "value": 20},
		{"op": "add", "path": "/base/policy/baselineTolerance", "value": 0.02},
	])
	found := policy.loosened with input as doc
	found == {["fairness.minGroupSize", 30, 20], ["evaluation.baseline.tolerance", 0.01, 0.02]}
}
