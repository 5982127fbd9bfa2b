package slipway.fairness_test

import data.slipway.fairness
import data.slipway.fixtures_test as fx

ids(set) := {r.id | some r in set}

test_passing_unit if {
	count(fairness.deny) == 0 with input as fx.unit
}

test_breach_on_one_attribute if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/evaluation/fairness/age_band/demographic_parity_difference", "value": 0.18}])
	denies := fairness.deny with input as doc
	count(denies) == 1
	some r in denies
	r.id == "fairness.demographic_parity"
	r.field == "fairness.thresholds.demographic_parity_difference"
	r.msg == "demographic_parity_difference for age_band is 0.18, threshold <= 0.1 (spec)"
}

test_equal_opportunity_breach if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/evaluation/fairness/sex/equal_opportunity_difference", "value": 0.2}])
	ids(fairness.deny) == {"fairness.equal_opportunity"} with input as doc
}

test_platform_defaults_apply_when_model_sets_none if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/model/fairness/thresholds", "value": {}},
		{"op": "replace", "path": "/evidence/evaluation/fairness/sex/disparate_impact", "value": 0.7},
		{"op": "replace", "path": "/evidence/evaluation/fairness/sex/equalized_odds_difference", "value": 0.3},
	])
	denies := fairness.deny with input as doc
	ids(denies) == {"fairness.demographic_parity", "fairness.equalized_odds"}
	some r in denies
	r.field == "fairness.sensitive"
	endswith(r.msg, "(platform default)")
}

test_other_metric_threshold if {
	doc := fx.with_patch([
		{"op": "add", "path": "/model/fairness/thresholds/selection_rate_gap", "value": {"max": 0.05}},
		{"op": "add", "path": "/evidence/evaluation/fairness/sex/selection_rate_gap", "value": 0.01},
	])
	ids(fairness.deny) == {"fairness.threshold"} with input as doc
}

test_metric_not_computed_names_small_groups if {
	doc := fx.with_patch([
		{"op": "remove", "path": "/evidence/evaluation/fairness/age_band/equal_opportunity_difference"},
		{"op": "replace", "path": "/evidence/evaluation/excluded_groups", "value": [{"attribute": "age_band", "group": "60+", "count": 12, "reason": "below minGroupSize"}]},
	])
	some r in fairness.deny with input as doc
	r.msg == "equal_opportunity_difference for age_band was not computed: 1 group(s) below the minimum size"
}

test_metric_not_computed_gives_the_reason if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/evidence/evaluation/fairness/sex/equal_opportunity_difference", "value": null},
		{"op": "add", "path": "/evidence/evaluation/fairness/sex/undefined", "value": {"equal_opportunity_difference": "no positive labels in group f"}},
	])
	some r in fairness.deny with input as doc
	r.msg == "equal_opportunity_difference for sex was not computed (no positive labels in group f)"
}

test_affects_people_needs_sensitive if {
	doc := fx.with_patch([{"op": "remove", "path": "/model/fairness"}])
	some r in fairness.deny with input as doc
	r.id == "fairness.sensitive_declared"
	r.field == "intendedUse.affectsPeople"
}

test_no_fairness_needed_when_not_about_people if {
	doc := fx.with_patch([
		{"op": "remove", "path": "/model/fairness"},
		{"op": "replace", "path": "/model/intendedUse/affectsPeople", "value": false},
	])
	count(fairness.deny) == 0 with input as doc

	# Nothing passed either: the group rules had nothing to judge.
	"fairness.demographic_parity" in {r.id | some r in fairness.not_applicable} with input as doc
}

test_group_rules_apply_with_sensitive_attributes if {
	count(fairness.not_applicable) == 0 with input as fx.unit
}

test_small_group_is_insufficient_evidence if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/evaluation/groups/age_band/60+/count", "value": 12}])
	some r in fairness.deny with input as doc
	r.id == "fairness.min_group_size"
	r.outcome == "insufficient_evidence"
	r.msg == "group age_band=60+ has 12 gold rows, under the minimum of 30: too few to judge its fairness"
}

# A model that writes a fairness block without minGroupSize is bound by
# the platform's, here 50, stricter than the schema's default of 30.
test_platform_min_group_size_applies_when_model_sets_none if {
	doc := fx.with_patch([
		{"op": "remove", "path": "/model/fairness/minGroupSize"},
		{"op": "add", "path": "/platform/policy/minGroupSize", "value": 50},
		{"op": "replace", "path": "/evidence/evaluation/groups/age_band/60+/count", "value": 40},
	])
	msgs := {r.msg | some r in fairness.deny with input as doc; r.id == "fairness.min_group_size"}
	msgs == {"group age_band=60+ has 40 gold rows, under the minimum of 50: too few to judge its fairness"}
}

# The model's own value, when it sets one, wins over the platform's.
test_model_min_group_size_wins if {
	doc := fx.with_patch([
		{"op": "add", "path": "/platform/policy/minGroupSize", "value": 50},
		{"op": "replace", "path": "/evidence/evaluation/groups/age_band/60+/count", "value": 40},
	])
	count({r | some r in fairness.deny with input as doc; r.id == "fairness.min_group_size"}) == 0
}

test_excluded_group_is_insufficient_evidence if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/evaluation/excluded_groups", "value": [{"attribute": "sex", "group": "x", "count": 3, "reason": "small"}]}])
	ids(fairness.deny) == {"fairness.min_group_size"} with input as doc
}

# The case from issue 12: equalized odds 0.05 passes <= 0.05 on the
# estimate, but its interval [0.0102, 0.0827] crosses the bound.
test_interval_crossing_is_insufficient_evidence if {
	doc := fx.with_patch([
		{"op": "add", "path": "/model/fairness/thresholds/equalized_odds_difference", "value": {"max": 0.05}},
		{"op": "replace", "path": "/evidence/evaluation/fairness/age_band/equalized_odds_difference", "value": 0.0427},
		{"op": "replace", "path": "/evidence/evaluation/ci/fairness/age_band/equalized_odds_difference", "value": [0.0102, 0.0827]},
		{"op": "replace", "path": "/evidence/evaluation/fairness/sex/equalized_odds_difference", "value": 0.04},
		{"op": "replace", "path": "/evidence/evaluation/ci/fairness/sex/equalized_odds_difference", "value": [0.02, 0.045]},
	])
	denies := fairness.deny with input as doc
	count(denies) == 1
	some r in denies
	r.id == "fairness.equalized_odds"
	r.outcome == "insufficient_evidence"
	r.msg == "equalized_odds_difference for age_band is 0.0427, within <= 0.05, but its 95% interval [0.0102, 0.0827] crosses the bound (spec, test intervals)"
}

test_estimate_decides_where_asked if {
	doc := fx.with_patch([
		{"op": "add", "path": "/model/fairness/thresholds/equalized_odds_difference", "value": {"max": 0.05, "decideOn": "estimate"}},
		{"op": "replace", "path": "/evidence/evaluation/fairness/age_band/equalized_odds_difference", "value": 0.0427},
		{"op": "replace", "path": "/evidence/evaluation/ci/fairness/age_band/equalized_odds_difference", "value": [0.0102, 0.0827]},
		{"op": "replace", "path": "/evidence/evaluation/fairness/sex/equalized_odds_difference", "value": 0.04},
	])
	count(fairness.deny) == 0 with input as doc
}

test_estimate_decides_outside_protected_environments if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/environment", "value": fx.staging},
		{"op": "add", "path": "/model/fairness/thresholds/equalized_odds_difference", "value": {"max": 0.05}},
		{"op": "replace", "path": "/evidence/evaluation/fairness/age_band/equalized_odds_difference", "value": 0.0427},
		{"op": "replace", "path": "/evidence/evaluation/ci/fairness/age_band/equalized_odds_difference", "value": [0.0102, 0.0827]},
		{"op": "replace", "path": "/evidence/evaluation/fairness/sex/equalized_odds_difference", "value": 0.04},
	])
	count(fairness.deny) == 0 with input as doc
}

test_platform_decides_on_interval_everywhere if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/environment", "value": fx.staging},
		{"op": "add", "path": "/platform/policy/decideOn", "value": "interval"},
		{"op": "replace", "path": "/evidence/evaluation/ci/fairness/sex/demographic_parity_difference", "value": [0.01, 0.12]},
	])
	ids(fairness.deny) == {"fairness.demographic_parity"} with input as doc
}

test_missing_interval_is_insufficient_evidence if {
	doc := fx.with_patch([{"op": "remove", "path": "/evidence/evaluation/ci"}])
	some r in fairness.deny with input as doc
	r.outcome == "insufficient_evidence"
}
