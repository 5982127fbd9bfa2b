# METADATA
# title: Fairness
# description: >-
#   Gaps in outcomes between the groups of each sensitive attribute stay
#   within the thresholds of the spec or, when it sets none, the platform's.
package slipway.fairness

import data.slipway.lib

family := {
	"demographic_parity_difference": "demographic_parity",
	"demographic_parity_ratio": "demographic_parity",
	"disparate_impact": "demographic_parity",
	"equalized_odds_difference": "equalized_odds",
	"equalized_odds_ratio": "equalized_odds",
	"equal_opportunity_difference": "equal_opportunity",
	"equal_opportunity_ratio": "equal_opportunity",
}

rule_id(metric) := concat(".", ["fairness", family[metric]]) if metric in object.keys(family)

rule_id(metric) := "fairness.threshold" if not metric in object.keys(family)

threshold_field(metric) := sprintf("fairness.thresholds.%s", [metric]) if lib.model_sets_fairness_thresholds

threshold_field(_) := "fairness.sensitive" if not lib.model_sets_fairness_thresholds

source := "spec" if lib.model_sets_fairness_thresholds

source := "platform default" if not lib.model_sets_fairness_thresholds

# The check result shows each fairness figure with the threshold these
# rules applied to it and what they decided of it.
facts["fairness_thresholds"] := lib.fairness_thresholds

facts["fairness_outcomes"] := {attr: {metric: figure_outcome(attr, metric) |
	some metric, _ in lib.fairness_thresholds
} |
	some attr in lib.sensitive
}

# figure_outcome is what the rules decided of one attribute's metric,
# before waivers: deny, insufficient_evidence, or pass without a breach.
figure_outcome(attr, metric) := "deny" if {
	"deny" in breach_outcomes(attr, metric)
} else := "insufficient_evidence" if {
	"insufficient_evidence" in breach_outcomes(attr, metric)
} else := "pass"

breach_outcomes(attr, metric) := {object.get(b[3], "outcome", "deny") |
	some b in breaches
	b[1] == attr
	b[2] == metric
}

value(attr, metric) := object.get(input, ["evidence", "evaluation", "fairness", attr, metric], null)

# breaches are [rule id, attribute, metric, result], one per attribute and
# metric out of bounds, too thin to decide, or not computed.
breaches contains [rule_id(metric), attr, metric, r] if {
	some attr in lib.sensitive
	some metric, t in lib.fairness_thresholds
	v := value(attr, metric)
	is_number(v)
	lib.outside(v, t)
	msg := sprintf("%s for %s is %v, threshold %s (%s)", [metric, attr, lib.num(v), lib.bounds(t), source])
	r := lib.result(rule_id(metric), msg, threshold_field(metric))
}

fairness_interval(attr, metric) := object.get(input, ["evidence", "evaluation", "ci", "fairness", attr, metric], null)

# interval_method names how the evaluation made its intervals.
interval_method := m if {
	m := input.evidence.evaluation.ci.fairness_method
	is_string(m)
} else := "none"

breaches contains [rule_id(metric), attr, metric, r] if {
	some attr in lib.sensitive
	some metric, t in lib.fairness_thresholds
	v := value(attr, metric)
	is_number(v)
	not lib.outside(v, t)
	lib.decide_on(t) == "interval"
	iv := fairness_interval(attr, metric)
	is_array(iv)
	lib.crosses(iv, t)
	msg := sprintf("%s for %s is %v, within %s, but its 95%% interval %s crosses the bound (%s, %s)", [metric, attr, lib.num(v), lib.bounds(t), lib.interval(iv), source, interval_method])
	r := lib.insufficient(rule_id(metric), msg, threshold_field(metric))
}

breaches contains [rule_id(metric), attr, metric, r] if {
	some attr in lib.sensitive
	some metric, t in lib.fairness_thresholds
	v := value(attr, metric)
	is_number(v)
	not lib.outside(v, t)
	lib.decide_on(t) == "interval"
	not is_array(fairness_interval(attr, metric))
	msg := sprintf("%s for %s is %v, within %s, but has no 95%% interval to decide on (%s)", [metric, attr, lib.num(v), lib.bounds(t), source])
	r := lib.insufficient(rule_id(metric), msg, threshold_field(metric))
}

breaches contains [rule_id(metric), attr, metric, r] if {
	some attr in lib.sensitive
	some metric, _ in lib.fairness_thresholds
	not is_number(value(attr, metric))
	msg := sprintf("%s for %s was not computed%s", [metric, attr, reason(attr, metric)])
	r := lib.result(rule_id(metric), msg, threshold_field(metric))
}

# reason is why the evaluation left a fairness metric undefined: its own
# words when it gives them, else the groups it excluded for their size.
reason(attr, metric) := sprintf(" (%s)", [r]) if {
	r := input.evidence.evaluation.fairness[attr].undefined[metric]
	is_string(r)
} else := sprintf(": %d group(s) below the minimum size", [n]) if {
	n := count([g | some g in object.get(input, ["evidence", "evaluation", "excluded_groups"], []); g.attribute == attr])
	n > 0
} else := ""

# METADATA
# title: Demographic parity within bounds
# description: >-
#   For every sensitive attribute, the gap in selection rates between groups
#   (demographic_parity_difference, demographic_parity_ratio,
#   disparate_impact) is within its threshold.
# custom:
#   id: fairness.demographic_parity
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: EU AI Act, id: Annex IV 3}
#     - {framework: NIST AI RMF, id: MEASURE 2.11}
#     - {framework: ISO/IEC 42001, id: A.5.4}
#     - {framework: ISO/IEC 42001, id: A.6.2.4}
deny contains r if {
	some [id, _, _, r] in breaches
	id == "fairness.demographic_parity"
}

# METADATA
# title: Equalized odds within bounds
# description: >-
#   For every sensitive attribute, the largest gap in true and false positive
#   rates between groups (equalized_odds_difference, equalized_odds_ratio) is
#   within its threshold.
# custom:
#   id: fairness.equalized_odds
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: EU AI Act, id: Annex IV 3}
#     - {framework: NIST AI RMF, id: MEASURE 2.11}
#     - {framework: ISO/IEC 42001, id: A.5.4}
#     - {framework: ISO/IEC 42001, id: A.6.2.4}
deny contains r if {
	some [id, _, _, r] in breaches
	id == "fairness.equalized_odds"
}

# METADATA
# title: Equal opportunity within bounds
# description: >-
#   For every sensitive attribute, the gap in true positive rates between
#   groups (equal_opportunity_difference, equal_opportunity_ratio) is within
#   its threshold.
# custom:
#   id: fairness.equal_opportunity
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: EU AI Act, id: Annex IV 3}
#     - {framework: NIST AI RMF, id: MEASURE 2.11}
#     - {framework: ISO/IEC 42001, id: A.5.4}
#     - {framework: ISO/IEC 42001, id: A.6.2.4}
deny contains r if {
	some [id, _, _, r] in breaches
	id == "fairness.equal_opportunity"
}

# METADATA
# title: Other fairness thresholds met
# description: >-
#   Any other fairness metric the spec bounds is within its threshold for
#   every sensitive attribute.
# custom:
#   id: fairness.threshold
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: NIST AI RMF, id: MEASURE 2.11}
#     - {framework: ISO/IEC 42001, id: A.5.4}
#     - {framework: ISO/IEC 42001, id: A.6.2.4}
deny contains r if {
	some [id, _, _, r] in breaches
	id == "fairness.threshold"
}

# METADATA
# title: Models that affect people declare sensitive attributes
# description: >-
#   A model whose intended use says it affects people must declare the
#   sensitive attributes its fairness is measured on.
# custom:
#   id: fairness.sensitive_declared
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: EU AI Act, id: Annex IV 3}
#     - {framework: NIST AI RMF, id: MEASURE 2.11}
#     - {framework: ISO/IEC 42001, id: A.5.4}
deny contains r if {
	input.model.intendedUse.affectsPeople == true
	count(lib.sensitive) == 0
	r := lib.result("fairness.sensitive_declared", "the model affects people but declares no sensitive attributes (fairness.sensitive)", "intendedUse.affectsPeople")
}

small_groups contains [attr, group, n] if {
	some g in object.get(input, ["evidence", "evaluation", "excluded_groups"], [])
	attr := g.attribute
	group := g.group
	n := g.count
}

small_groups contains [attr, group, s.count] if {
	some attr in lib.sensitive
	some group, s in object.get(input, ["evidence", "evaluation", "groups", attr], {})
	s.count < lib.min_group_size
}

# METADATA
# title: Groups at least the minimum size
# description: >-
#   A group of a sensitive attribute with fewer gold rows than the minimum
#   group size is too small for its rates to be trusted: the fairness of the
#   model toward it is insufficient evidence, which denies in protected
#   environments and warns elsewhere.
# custom:
#   id: fairness.min_group_size
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(d)}
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: NIST AI RMF, id: MEASURE 2.11}
#     - {framework: ISO/IEC 42001, id: A.5.4}
#     - {framework: ISO/IEC 42001, id: A.7.4}
deny contains r if {
	some [attr, group, n] in small_groups
	msg := sprintf("group %s=%v has %v gold rows, under the minimum of %v: too few to judge its fairness", [attr, group, n, lib.min_group_size])
	r := lib.insufficient("fairness.min_group_size", msg, "fairness.minGroupSize")
}

# Without sensitive attributes the fairness rules have no groups to judge:
# they say so instead of passing. fairness.sensitive_declared judges
# whether that is allowed.
not_applicable contains r if {
	count(lib.sensitive) == 0
	some id in {"fairness.demographic_parity", "fairness.equalized_odds", "fairness.equal_opportunity", "fairness.threshold", "fairness.min_group_size"}
	r := lib.result(id, "the model declares no sensitive attributes: no groups to judge", "fairness.sensitive")
}
