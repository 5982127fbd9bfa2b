package slipway.defaults_test

import data.slipway.data as datapack
import data.slipway.defaults
import data.slipway.fixtures_test as fx
import data.slipway.handover
import data.slipway.lib
import data.slipway.monitoring

# An input without a platform policy (written by hand, or null) is judged
# with the schema's defaults, all of them.
test_policy_is_the_defaults_when_unset if {
	lib.policy == defaults.policy with input as {}
	lib.policy == defaults.policy with input as {"platform": {"policy": null}}
	lib.policy == defaults.policy with input as {"platform": {"policy": {}}}
}

# What the platform sets wins; what it leaves out, fairness thresholds
# included, keeps the default, as CUE unifies the policy with the schema.
test_policy_set_fields_win if {
	p := lib.policy with input as {"platform": {"policy": {"minGroupSize": 50, "fairness": {"disparate_impact": {"min": 0.9}}}}}
	p.minGroupSize == 50
	p.driftThreshold == defaults.policy.driftThreshold
	p.fairness.disparate_impact == {"min": 0.9}
	p.fairness.demographic_parity_difference == defaults.policy.fairness.demographic_parity_difference
}

with_default(name, v) := object.union(defaults.policy, {name: v})

# The rules read the schema's default, not a number of their own: change
# the default and the verdict follows.
test_drift_follows_the_default if {
	doc := fx.with_patch([{"op": "remove", "path": "/model/monitoring/drift/threshold"}])
	count(datapack.deny) == 0 with input as doc
	msgs := {r.msg | some r in datapack.deny with input as doc with defaults.policy as with_default("driftThreshold", 0.06)}
	msgs == {"feature loan_amount drifted: psi 0.08 over threshold 0.06"}
}

test_rollback_days_follow_the_default if {
	old := fx.with_patch([{"op": "replace", "path": "/rollback_rehearsals/0/recorded_at", "value": "2026-06-01T00:00:00Z"}])
	"handover.rollback_tested" in {r.id | some r in handover.deny with input as old}
	not "handover.rollback_tested" in {r.id | some r in handover.deny with input as old with defaults.policy as with_default("rollbackRehearsalDays", 200)}
}

test_min_rows_follows_the_model_default if {
	doc := json.patch(fx.unit, [
		{"op": "replace", "path": "/kind", "value": "monitoring"},
		{"op": "add", "path": "/monitoring", "value": {"rows": 150, "outcomes": null}},
	])
	not monitoring.too_few_rows with input as doc
	monitoring.too_few_rows with input as doc with defaults.model as json.patch(defaults.model, [{"op": "replace", "path": "/monitoring/minRows", "value": 200}])
}
