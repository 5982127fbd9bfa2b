# METADATA
# title: Thresholds
# description: >-
#   A change that loosens a threshold against its base needs the approval of
#   a risk owner.
package slipway.policy

import data.slipway.lib

base := b if {
	b := input.base
	is_object(b)
} else := null

base_model := m if {
	is_object(base)
	m := base.model
	is_object(m)
} else := null

# bound_loosened holds when threshold now is looser than threshold was.
bound_loosened(was, now) if {
	is_number(was.min)
	not is_number(object.get(now, "min", null))
}

bound_loosened(was, now) if now.min < was.min

bound_loosened(was, now) if {
	is_number(was.max)
	not is_number(object.get(now, "max", null))
}

bound_loosened(was, now) if now.max > was.max

# decide_was is decideOn as the base's threshold and policy set it.
decide_was(t) := t.decideOn if {
	is_string(t.decideOn)
} else := base.policy.decideOn if {
	is_string(base.policy.decideOn)
} else := "interval" if {
	lib.protected
} else := "estimate"

show(t) := sprintf("%s%s", [bounds_text(t), decide_text(t)])

bounds_text(t) := b if {
	b := lib.bounds(t)
	b != ""
} else := "none"

decide_text(t) := sprintf(" (decideOn %s)", [t.decideOn]) if is_string(t.decideOn)

decide_text(t) := "" if not is_string(object.get(t, "decideOn", null))

threshold_changes(kind, was_set, now_set) := {[sprintf("%s.%s", [kind, name]), show(was), now_text] |
	some name, was in was_set
	now := object.get(now_set, name, null)
	now_text := changed(was, now)
}

changed(_, now) := "removed" if now == null

changed(was, now) := show(now) if {
	is_object(now)
	bound_loosened(was, now)
}

changed(was, now) := show(now) if {
	is_object(now)
	not bound_loosened(was, now)
	decide_was(was) == "interval"
	lib.decide_on(now) == "estimate"
}

# loosened are [field, old, new] for every threshold the change loosens.
loosened contains c if {
	is_object(base_model)
	some c in threshold_changes("evaluation.metrics", object.get(base_model, ["evaluation", "metrics"], {}), object.get(input.model, ["evaluation", "metrics"], {}))
}

loosened contains c if {
	is_object(base_model)
	some c in threshold_changes("fairness.thresholds", object.get(base_model, ["fairness", "thresholds"], {}), object.get(input.model, ["fairness", "thresholds"], {}))
}

# A model that sets no minGroupSize or baseline tolerance of its own is
# bound by the platform's: setting one looser than the platform's value it
# relied on loosens it, and dropping its own for a looser platform value
# does too. Each side is compared as lib reads it, the model's value else
# the platform's (policy.minGroupSize and policy.baselineTolerance below
# cover a model that sets neither, when the platform loosens).
loosened contains ["fairness.minGroupSize", was, now] if {
	is_object(base_model)
	model_sets_any(["fairness", "minGroupSize"])
	was := base_min_group_size
	now := lib.min_group_size
	now < was
}

loosened contains ["evaluation.baseline.tolerance", was, now] if {
	is_object(base_model)
	model_sets_any(["evaluation", "baseline", "tolerance"])
	was := base_baseline_tolerance
	now := lib.baseline_tolerance
	now > was
}

# model_sets_any holds when the base's model or the changed one sets the
# number at path.
model_sets_any(path) if is_number(object.get(base_model, path, null))

model_sets_any(path) if is_number(object.get(input.model, path, null))

# base_min_group_size and base_baseline_tolerance are the values that bound
# the base's model: its own, else its platform's, else (the base's platform
# unknown) the platform's now.
base_min_group_size := n if {
	n := base_model.fairness.minGroupSize
	is_number(n)
	n > 0
} else := n if {
	n := base_policy.minGroupSize
} else := lib.policy.minGroupSize

base_baseline_tolerance := t if {
	t := base_model.evaluation.baseline.tolerance
	is_number(t)
} else := t if {
	t := base_policy.baselineTolerance
} else := lib.policy.baselineTolerance

# A raised drift threshold lets more drift through before it denies; a
# removed one falls back to the platform's policy.driftThreshold, which the
# model's own bound was set to tighten.
loosened contains ["monitoring.drift.threshold", was, now] if {
	is_object(base_model)
	was := base_model.monitoring.drift.threshold
	was > 0
	now := object.get(input.model, ["monitoring", "drift", "threshold"], 0)
	drift_loosened(was, now)
}

drift_loosened(_, now) if now == 0

drift_loosened(was, now) if now > was

# threshold_fields are the model spec fields the loosened rules above read.
# The audit report asks for loosened only about consecutive releases whose
# signed specs differ in one of them (at ten thousand releases, evaluating
# every pair would cost seconds); a new loosened rule adds its field here.
threshold_fields := [
	"evaluation.metrics",
	"evaluation.baseline.tolerance",
	"fairness.thresholds",
	"fairness.minGroupSize",
	"monitoring.drift.threshold",
]

loosened contains ["policy.minGoldCoverage", was, now] if {
	is_object(base)
	was := base_policy.minGoldCoverage
	now := lib.policy.minGoldCoverage
	now < was
}

# The platform's defaults bound a model that sets no value of its own:
# loosening one of them loosens that model as surely as editing its spec.
# base_policy is the platform policy at the base, with the schema's
# defaults under it as lib.policy has them; undefined when the base could
# not be read.
base_policy := lib.policy_of(p) if {
	p := base.policy
	is_object(p)
}

loosened contains ["policy.baselineTolerance", was, now] if {
	is_object(base_policy)
	not is_number(object.get(input.model, ["evaluation", "baseline", "tolerance"], null))
	was := base_policy.baselineTolerance
	now := lib.policy.baselineTolerance
	now > was
}

loosened contains ["policy.driftThreshold", was, now] if {
	is_object(base_policy)
	object.get(input.model, ["monitoring", "drift", "threshold"], 0) == 0
	was := base_policy.driftThreshold
	now := lib.policy.driftThreshold
	now > was
}

loosened contains ["policy.minGroupSize", was, now] if {
	is_object(base_policy)
	object.get(input.model, ["fairness", "minGroupSize"], 0) == 0
	was := base_policy.minGroupSize
	now := lib.policy.minGroupSize
	now < was
}

loosened contains c if {
	is_object(base_policy)
	not lib.model_sets_fairness_thresholds
	some c in threshold_changes("policy.fairness", base_policy.fairness, lib.policy.fairness)
}

loosened contains ["policy.decideOn", was, now] if {
	is_object(base)
	was := base.policy.decideOn
	now := policy_decide_on
	was == "interval"
	now != "interval"
}

# policy_decide_on is the platform's decideOn, "" when it sets none: the
# schema gives it no default, each environment decides (lib.decide_on).
policy_decide_on := d if {
	d := lib.policy.decideOn
} else := ""

approved if {
	some a in object.get(base, "approved_by", [])
	is_string(a)
}

approvals_known if is_array(base.approved_by)

loosened_result(c, why) := r if {
	[field, was, now] := c
	msg := sprintf("%s loosened from %v to %v: %s", [field, was, now, why])
	startswith(field, "policy.")
	r := lib.spec_result("policy.threshold_loosened", msg, sprintf("platform.%s", [field]))
}

loosened_result(c, why) := r if {
	[field, was, now] := c
	msg := sprintf("%s loosened from %v to %v: %s", [field, was, now, why])
	not startswith(field, "policy.")
	r := lib.result("policy.threshold_loosened", msg, field)
}

# METADATA
# title: Loosened thresholds approved by a risk owner
# description: >-
#   A change that loosens a threshold against its base (a metric or fairness
#   bound, minGroupSize, the baseline tolerance, the drift threshold,
#   minGoldCoverage, or a switch from interval to estimate; also the
#   platform's default of any of these a model sets none of) is approved by one of the base's
#   policy.riskOwners (a member, for a team) who wrote none of the change.
#   Where the reviews are not known (outside GitHub), it
#   denies in protected environments. Where the base itself cannot be read
#   (a pull request's base commit missing from a shallow clone), no
#   loosening can be ruled out: insufficient evidence, a denial in protected
#   environments and a warning elsewhere.
# custom:
#   id: policy.threshold_loosened
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Article 9}
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: NIST AI RMF, id: GOVERN 1.4}
#     - {framework: NIST AI RMF, id: MANAGE 1.3}
#     - {framework: ISO/IEC 42001, id: A.6.2.4}
deny contains r if {
	approvals_known
	not approved
	some c in loosened
	owners := concat(", ", object.get(base, "risk_owners", []))
	r := loosened_result(c, sprintf("no approval by a risk owner (%s)", [owners]))
}

deny contains r if {
	is_object(base)
	not approvals_known
	lib.protected
	some c in loosened
	r := loosened_result(c, "the reviews are not known here, so no risk owner's approval can be seen")
}

# base_unknown is why the base could not be read (a pull request's base
# commit missing from a shallow clone): no loosening can be ruled out.
base_unknown := u if {
	u := base.unknown
	lib.nonempty(u)
}

unknown_msg := sprintf("%s, so a loosened threshold cannot be ruled out: insufficient evidence", [base_unknown])

deny contains lib.result("policy.threshold_loosened", unknown_msg, "evaluation") if {
	base_unknown
	lib.protected
}

warn contains lib.result("policy.threshold_loosened", unknown_msg, "evaluation") if {
	base_unknown
	not lib.protected
}
