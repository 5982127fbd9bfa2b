# METADATA
# title: Slipway policy library
# description: Helpers shared by the built-in packs. It has no rules of its own.
package slipway.lib

import data.slipway.defaults

# Rules read the evidence summary as object.get(input, ["evidence", ...],
# fallback) or through input.evidence directly, so that a missing summary or
# value reads as "not computed" instead of silently passing (the engine also
# denies a missing summary on its own). No rule holds the whole summary: OPA
# would copy that large value for every unit.

# policy is the platform policy with the schema's defaults under it: the
# input of a check carries them all, since CUE filled them in; one written
# by hand or by a test may not. Rules read policy.<field> and never retype
# a default as a fallback: the schema is their one home
# (data.slipway.defaults is generated from it).
policy := policy_of(object.get(input, ["platform", "policy"], null))

# policy_of is platform policy p with the schema's defaults under it.
policy_of(p) := object.union(defaults.policy, p) if {
	is_object(p)
} else := defaults.policy

# result builds a rule result; field is a path inside the model spec, used by
# the engine to find the file and line.
result(id, msg, field) := {"id": id, "msg": msg, "field": field}

# result_at is result placed at a spec position ({file, line, column})
# inside the field, such as the column of a fault in a string.
result_at(id, msg, field, at) := {"id": id, "msg": msg, "field": field, "at": at}

# spec_result points at a platform-level path (such as a data source) instead
# of a field of the model.
spec_result(id, msg, path) := {"id": id, "msg": msg, "path": path}

# metric is the named overall metric of the evaluation, or null.
metric(name) := object.get(input, ["evidence", "evaluation", "overall", name], null)

# outside holds when number v breaks threshold t ({min?, max?}).
outside(v, t) if v < t.min

outside(v, t) if v > t.max

# bounds renders a threshold as text, such as ">= 0.8 and <= 1".
bounds(t) := concat(" and ", array.concat(
	[sprintf(">= %v", [t.min]) | "min" in object.keys(t)],
	[sprintf("<= %v", [t.max]) | "max" in object.keys(t)],
))

# num rounds a number to 4 decimals for messages.
num(x) := round(x * 10000) / 10000 if is_number(x)

num(x) := "null" if not is_number(x)

# undefined_reason is why the evaluation left a metric undefined, if it says.
undefined_reason(name) := sprintf(" (%s)", [r]) if {
	r := input.evidence.evaluation.undefined[name]
	is_string(r)
} else := ""

# nonempty holds for a string with something other than blanks in it.
nonempty(s) if {
	is_string(s)
	trim_space(s) != ""
}

# data_source_names are every data source the model names.
data_source_names contains name if some name in object.get(input.model, ["training", "data"], [])

data_source_names contains input.model.evaluation.data

# fairness_thresholds are the model's own fairness thresholds or, when it
# sets none, the platform defaults.
fairness_thresholds := t if {
	t := input.model.fairness.thresholds
	is_object(t)
	count(t) > 0
} else := policy.fairness

# model_sets_fairness_thresholds says whether the thresholds are the model's
# (null, as a spec without any encodes to JSON, is none).
model_sets_fairness_thresholds if {
	t := input.model.fairness.thresholds
	is_object(t)
	count(t) > 0
}

# baseline_tolerance is how far a metric may fall behind its baseline, at
# check time and in production alike: the model's
# evaluation.baseline.tolerance, else the platform's baselineTolerance.
baseline_tolerance := t if {
	t := input.model.evaluation.baseline.tolerance
	is_number(t)
} else := policy.baselineTolerance

# sensitive are the model's sensitive attributes.
sensitive := object.get(input.model, ["fairness", "sensitive"], [])

# min_group_size is the smallest group whose fairness is judged: the
# model's fairness.minGroupSize, else the platform's minGroupSize. The
# schema gives the model's field no default, so an absent one is unset.
min_group_size := n if {
	n := input.model.fairness.minGroupSize
	is_number(n)
	n > 0
} else := policy.minGroupSize

# protected says whether the unit's environment is protected.
protected if input.environment.protected == true

# environment_field is the model's entry for the unit's environment in its
# environments list.
environment_field := sprintf("environments[%d]", [i]) if {
	some i, e in input.model.environments
	e == input.environment.name
} else := "environments"

# insufficient builds a result whose evidence is too thin to decide (an
# interval across its bound, a group too small): rules put it in deny, and
# the engine makes it deny in protected environments and warn elsewhere.
insufficient(id, msg, field) := {"id": id, "msg": msg, "field": field, "outcome": "insufficient_evidence"}

# decide_on is what must lie within threshold t: "estimate" or "interval".
# The threshold says, else the platform's policy.decideOn, else interval in
# protected environments and estimate elsewhere.
decide_on(t) := t.decideOn if {
	is_string(t.decideOn)
} else := policy.decideOn if {
	is_string(policy.decideOn)
} else := "interval" if {
	protected
} else := "estimate"

# crosses holds when interval iv, [low, high], reaches beyond threshold t.
crosses(iv, t) if iv[0] < t.min

crosses(iv, t) if iv[1] > t.max

# interval renders an interval for messages.
interval(iv) := sprintf("[%v, %v]", [num(iv[0]), num(iv[1])])

# metric_interval is the 95% interval of the named overall metric, or null.
metric_interval(name) := object.get(input, ["evidence", "evaluation", "ci", "overall", name], null)
