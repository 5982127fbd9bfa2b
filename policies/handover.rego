# METADATA
# title: Operations handover
# description: >-
#   The acceptance gate an operations team asks for before it takes a model
#   over: a runbook with the required sections, someone on call, a support
#   plan, SLOs, a paging alert, prediction logging with a retention, the
#   documented error types, a rehearsed rollback and an acceptance on the
#   record.
package slipway.handover

import data.slipway.lib

runbook := r if {
	r := input.evidence.runbook
	is_object(r)
} else := {}

# METADATA
# title: Runbook exists
# description: The runbook file the spec names exists in the repository.
# custom:
#   id: handover.runbook_exists
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 1}
#     - {framework: NIST AI RMF, id: MANAGE 4.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.7}
#     - {framework: ISO/IEC 42001, id: A.8.2}
deny contains r if {
	object.get(runbook, "exists", false) != true
	r := lib.result("handover.runbook_exists", sprintf("runbook %s does not exist", [input.model.handover.runbook]), "handover.runbook")
}

required_sections := lib.policy.runbookSections

present_sections := {lower(trim_space(s)) | some s in object.get(runbook, "sections", [])}

# METADATA
# title: Runbook has the required sections
# description: >-
#   The runbook has a heading for every section the platform requires
#   (platform.policy.runbookSections; Overview, Alerts, Rollback and Contacts
#   by default), compared without regard to case.
# custom:
#   id: handover.runbook_sections
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 1}
#     - {framework: NIST AI RMF, id: MANAGE 4.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.7}
#     - {framework: ISO/IEC 42001, id: A.8.2}
deny contains r if {
	object.get(runbook, "exists", false) == true
	some s in required_sections
	not lower(s) in present_sections
	r := lib.result("handover.runbook_sections", sprintf("runbook %s has no %q section", [input.model.handover.runbook, s]), "handover.runbook")
}

# METADATA
# title: On-call team set
# description: The model names the team that is paged for it.
# custom:
#   id: handover.on_call
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Art. 17(1)(m)}
#     - {framework: NIST AI RMF, id: GOVERN 2.1}
#     - {framework: NIST AI RMF, id: MANAGE 4.1}
#     - {framework: ISO/IEC 42001, id: A.3.2}
#     - {framework: ISO/IEC 42001, id: A.6.2.6}
deny contains r if {
	not lib.nonempty(object.get(input.model.handover, ["onCall", "team"], ""))
	r := lib.result("handover.on_call", "no on-call team is set", "handover.onCall.team")
}

# METADATA
# title: Support plan in force
# description: >-
#   The model has a support plan with a tier and a contact, and the plan has
#   not ended.
# custom:
#   id: handover.support_plan
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 1}
#     - {framework: NIST AI RMF, id: GOVERN 2.1}
#     - {framework: NIST AI RMF, id: MANAGE 4.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.6}
deny contains r if {
	some field in ["tier", "contact"]
	not lib.nonempty(object.get(input.model.handover, ["supportPlan", field], ""))
	r := lib.result("handover.support_plan", sprintf("the support plan has no %s", [field]), "handover.supportPlan")
}

deny contains r if {
	until := input.model.handover.supportPlan.until
	lib.nonempty(until)
	time.parse_ns("2006-01-02", until) < time.parse_rfc3339_ns(input.now)
	r := lib.result("handover.support_plan", sprintf("the support plan ended on %s", [until]), "handover.supportPlan.until")
}

# METADATA
# title: SLOs defined
# description: The model declares at least one service level objective.
# custom:
#   id: handover.slos
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 3}
#     - {framework: NIST AI RMF, id: MANAGE 4.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.6}
deny contains r if {
	count(object.get(input.model.handover, "slos", [])) == 0
	r := lib.result("handover.slos", "no SLO is defined", "handover.slos")
}

# METADATA
# title: At least one paging alert
# description: At least one alert has severity "page", so a breach wakes someone.
# custom:
#   id: handover.paging_alert
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Art. 17(1)(i)}
#     - {framework: NIST AI RMF, id: MANAGE 4.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.6}
#     - {framework: ISO/IEC 42001, id: A.8.4}
deny contains r if {
	count([a | some a in object.get(input.model.handover, "alerts", []); a.severity == "page"]) == 0
	r := lib.result("handover.paging_alert", "no alert has severity \"page\"", "handover.alerts")
}

max_log_days := lib.policy.maxPredictionLogDays

# METADATA
# title: Predictions logged with a retention
# description: >-
#   Predictions are logged, with a retention of at least one day and no
#   longer than the platform's maxPredictionLogDays.
# custom:
#   id: handover.prediction_logging
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 3}
#     - {framework: NIST AI RMF, id: MANAGE 4.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.8}
deny contains r if {
	object.get(input.model.handover, ["logging", "predictions"], false) != true
	r := lib.result("handover.prediction_logging", "predictions are not logged", "handover.logging.predictions")
}

deny contains r if {
	days := object.get(input.model.handover, ["logging", "retentionDays"], 0)
	days < 1
	r := lib.result("handover.prediction_logging", "prediction logs have no retention (retentionDays is 0)", "handover.logging.retentionDays")
}

deny contains r if {
	days := input.model.handover.logging.retentionDays
	days > max_log_days
	msg := sprintf("prediction logs are kept %v days, over the platform's maximum of %v", [days, max_log_days])
	r := lib.result("handover.prediction_logging", msg, "handover.logging.retentionDays")
}

# METADATA
# title: Error types documented
# description: >-
#   At least one failure mode is documented with what it means and what the
#   operator does about it.
# custom:
#   id: handover.error_types
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 3}
#     - {framework: NIST AI RMF, id: MANAGE 2.3}
#     - {framework: ISO/IEC 42001, id: A.6.2.7}
#     - {framework: ISO/IEC 42001, id: A.8.4}
deny contains r if {
	count(object.get(input.model.handover, "errorTypes", [])) == 0
	r := lib.result("handover.error_types", "no error type is documented", "handover.errorTypes")
}

# METADATA
# title: Rollback tested
# description: >-
#   In a protected environment, the ledger holds a verified, successful
#   rollback of this model with its current strategy, in an environment
#   that is not protected, within policy.rollbackRehearsalDays (default 90)
#   days: a rehearsal slipway rollback recorded and signed. rollback.tested
#   and testedOn are ignored.
# custom:
#   id: handover.rollback_tested
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 3}
#     - {framework: NIST AI RMF, id: MANAGE 2.3}
#     - {framework: NIST AI RMF, id: MANAGE 2.4}
#     - {framework: ISO/IEC 42001, id: A.6.2.5}
#     - {framework: ISO/IEC 42001, id: A.6.2.6}
deny contains r if {
	input.environment.protected
	not rollback_rehearsed
	r := lib.result("handover.rollback_tested", rollback_rehearsal_gap, "handover.rollback.strategy")
}

# METADATA
# title: Rollback rehearsal still to come
# description: >-
#   Outside protected environments a missing rollback rehearsal is reported,
#   not denied: the rehearsal needs two releases of the model there to roll
#   back between, and protected environments deny without it.
# custom:
#   id: handover.rollback_rehearsal_pending
#   severity: warn
#   controls:
#     - {framework: EU AI Act, id: Annex IV 3}
#     - {framework: NIST AI RMF, id: MANAGE 2.3}
#     - {framework: ISO/IEC 42001, id: A.6.2.6}
warn contains r if {
	not input.environment.protected
	not rollback_rehearsed
	r := lib.result("handover.rollback_rehearsal_pending", rollback_rehearsal_gap, "handover.rollback.strategy")
}

rollback_strategy := object.get(input.model.handover, ["rollback", "strategy"], "")

rollback_rehearsal_days := lib.policy.rollbackRehearsalDays

# A rehearsal counts when it succeeded with the model's current strategy in
# an environment that is not protected, no more than the allowed days
# before the evaluation time.
rollback_rehearsal_counts(h) if {
	h.outcome == "succeeded"
	h.strategy == rollback_strategy
	not h.protected
	age := time.parse_rfc3339_ns(input.now) - time.parse_rfc3339_ns(h.recorded_at)
	age <= ((rollback_rehearsal_days * 24) * 3600) * 1000000000
}

# rollback_rehearsals are the input's facts; an input document written
# without them (null or missing) has none.
default rollback_rehearsals := []

rollback_rehearsals := hs if {
	hs := input.rollback_rehearsals
	is_array(hs)
}

rollback_rehearsed if {
	some h in rollback_rehearsals
	rollback_rehearsal_counts(h)
}

rollback_rehearsal_gap := msg if {
	count(rollback_rehearsals) == 0
	msg := sprintf("no verified rollback of %s is in the ledger: rehearse strategy %q with slipway rollback in an environment that is not protected", [input.model.name, rollback_strategy])
}

rollback_rehearsal_gap := msg if {
	count(rollback_rehearsals) > 0
	h := rollback_rehearsals[0]
	msg := sprintf("no successful rollback of %s with strategy %q in an environment that is not protected within %d days; the newest, %s, was %s with strategy %q in %s on %s", [input.model.name, rollback_strategy, rollback_rehearsal_days, h.record, h.outcome, h.strategy, h.environment, h.recorded_at])
}

# acceptance_team is the operations team the spec asks to accept the
# model; input.acceptance (null when the reviews are not known) says
# whether a member of it who wrote none of the change approved.
acceptance_team := object.get(input.model.handover, ["acceptance", "team"], "")

acceptance := object.get(input, "acceptance", null)

acceptance_known if is_object(acceptance)

# accepted_on_record holds when the verified ledger already holds
# operations' acceptance of this version by the team (an earlier release's
# signed record, input.accepted_release): a change that keeps the version
# needs no new acceptance.
accepted_on_record if {
	a := input.accepted_release
	is_object(a)
	a.version == input.model.version
	a.team == acceptance_team
}

# METADATA
# title: Accepted by operations on the record
# description: >-
#   The operations team that takes the model over accepted it on the
#   record: a member of `handover.acceptance.team` (a GitHub team, @org/team
#   or a team of the repository's organisation) approved the pull request,
#   and wrote none of it. The team is the one to ask; who typed `by` and
#   `date` is not evidence. It denies in protected environments
#   (elsewhere handover.acceptance_pending warns); when the reviews are
#   not known (a local run) the acceptance is pending, which a release to a
#   protected environment denies. An acceptance of the same version by the
#   same team that an earlier release's verified record holds stands: a
#   change that keeps the version needs no new acceptance.
# custom:
#   id: handover.acceptance
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: NIST AI RMF, id: GOVERN 1.4}
#     - {framework: NIST AI RMF, id: GOVERN 2.1}
#     - {framework: ISO/IEC 42001, id: A.3.2}
#     - {framework: ISO/IEC 42001, id: A.6.2.5}
deny contains r if {
	not lib.nonempty(acceptance_team)
	r := lib.result("handover.acceptance", "no operations team is named to accept the model (handover.acceptance.team)", "handover")
}

deny contains r if {
	input.environment.protected == true
	some msg in not_accepted
	r := lib.result("handover.acceptance", msg, "handover.acceptance.team")
}

# Without the reviews (a run without --github) and with no acceptance on
# the record, the rule judges nothing, except in a release to a protected
# environment, where the pending acceptance denies.
not_applicable contains r if {
	lib.nonempty(acceptance_team)
	not acceptance_known
	not accepted_on_record
	not pending_denied
	r := lib.result("handover.acceptance", sprintf("the reviews are not known here, and no verified release of %s %s holds an acceptance by %s", [input.model.name, input.model.version, acceptance_team]), "handover.acceptance.team")
}

# not_accepted says why the known reviews do not accept the model.
not_accepted contains msg if {
	lib.nonempty(acceptance_team)
	acceptance_known
	not accepted_on_record
	acceptance.members == null
	msg := sprintf("the members of team %s are not known (GitHub did not list them: the token needs members:read), so no review can accept the model", [acceptance_team])
}

not_accepted contains msg if {
	lib.nonempty(acceptance_team)
	acceptance_known
	not accepted_on_record
	acceptance.members != null
	acceptance.by == null
	msg := sprintf("no member of team %s who wrote none of the change approved the pull request: operations has not accepted the model", [acceptance_team])
}

deny contains r if {
	lib.nonempty(acceptance_team)
	not acceptance_known
	not accepted_on_record
	input.phase == "release"
	input.environment.protected == true
	r := lib.result("handover.acceptance", acceptance_pending_msg, "handover.acceptance.team")
}

acceptance_pending_msg := sprintf("acceptance by team %s is not known here: only an approving review on the pull request counts (slipway check --github, slipway release --github read it)", [acceptance_team])

# METADATA
# title: Acceptance by operations still to be given
# description: >-
#   Outside protected environments, an acceptance by
#   `handover.acceptance.team` that is not known (a run without --github)
#   or not given (no member approved) is reported as pending: operations
#   accepts the model before it reaches a protected environment, where
#   handover.acceptance denies.
# custom:
#   id: handover.acceptance_pending
#   severity: warn
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: NIST AI RMF, id: GOVERN 1.4}
#     - {framework: ISO/IEC 42001, id: A.6.2.5}
warn contains r if {
	lib.nonempty(acceptance_team)
	not acceptance_known
	not accepted_on_record
	not pending_denied
	r := lib.result("handover.acceptance_pending", acceptance_pending_msg, "handover.acceptance.team")
}

warn contains r if {
	input.environment.protected != true
	some msg in not_accepted
	r := lib.result("handover.acceptance_pending", msg, "handover.acceptance.team")
}

pending_denied if {
	input.phase == "release"
	input.environment.protected == true
}

placeholder := "TODO(slipway)"

# METADATA
# title: No scaffolding placeholders left
# description: >-
#   `slipway new model` marks what a person must fill in with TODO(slipway);
#   none may remain in the model spec (input.placeholders, found by the
#   engine) or in the runbook (evidence runbook.placeholders, when the
#   evidence summary counts them).
# custom:
#   id: handover.placeholder
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 1}
#     - {framework: EU AI Act, id: Annex IV 2(b)}
#     - {framework: NIST AI RMF, id: GOVERN 1.4}
#     - {framework: ISO/IEC 42001, id: A.6.2.7}
deny contains r if {
	some field in object.get(input, "placeholders", [])
	r := lib.result("handover.placeholder", sprintf("%s still holds the placeholder %s", [field, placeholder]), field)
}

deny contains r if {
	n := object.get(runbook, "placeholders", 0)
	n > 0
	msg := sprintf("runbook %s still holds the placeholder %s on %v line(s)", [input.model.handover.runbook, placeholder, n])
	r := lib.result("handover.placeholder", msg, "handover.runbook")
}

# --- Alerts, SLOs, error types, runbook content and health checks are
# judged from facts Slipway computed: input.alerts (each condition parsed
# as PromQL) and the evidence summary's runbook content.

alert_facts := object.get(input, "alerts", [])

alerts := object.get(input.model.handover, "alerts", [])

# METADATA
# title: Alert conditions are PromQL that decides
# description: >-
#   Every alert condition parses as PromQL (a syntax error is reported at
#   its file, line and column) and compares something, or asks whether
#   series are absent: a bare selector fires whenever its series exist.
# custom:
#   id: handover.alert_conditions
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 9}
#     - {framework: NIST AI RMF, id: MANAGE 4.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.6}
deny contains r if {
	some i, f in alert_facts
	lib.nonempty(object.get(f, "error", ""))
	msg := sprintf("alert %s: condition is not PromQL: %s", [f.name, f.error])
	r := lib.result_at("handover.alert_conditions", msg, sprintf("handover.alerts[%d].condition", [i]), object.get(f, "at", null))
}

deny contains r if {
	some i, f in alert_facts
	not lib.nonempty(object.get(f, "error", ""))
	f.compares == false
	msg := sprintf("alert %s: condition %q compares nothing, so it fires whenever its series exist", [f.name, alerts[i].condition])
	r := lib.result("handover.alert_conditions", msg, sprintf("handover.alerts[%d].condition", [i]))
}

alerted_metrics contains m if {
	some f in alert_facts
	some m in f.metrics
}

# METADATA
# title: Every SLO has an alert
# description: >-
#   Every SLO names the metric it is measured on, and some alert's
#   condition reads that metric.
# custom:
#   id: handover.slo_alerts
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 9}
#     - {framework: NIST AI RMF, id: MEASURE 2.4}
#     - {framework: NIST AI RMF, id: MANAGE 4.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.6}
deny contains r if {
	some i, s in object.get(input.model.handover, "slos", [])
	not lib.nonempty(object.get(s, "metric", ""))
	msg := sprintf("SLO %s names no metric, so no alert can be shown to watch it", [s.name])
	r := lib.result("handover.slo_alerts", msg, sprintf("handover.slos[%d]", [i]))
}

deny contains r if {
	some i, s in object.get(input.model.handover, "slos", [])
	lib.nonempty(object.get(s, "metric", ""))
	not s.metric in alerted_metrics
	msg := sprintf("SLO %s: no alert reads its metric %s", [s.name, s.metric])
	r := lib.result("handover.slo_alerts", msg, sprintf("handover.slos[%d].metric", [i]))
}

# An alert names an error code when its name or condition holds it.
alert_names_code(code) if {
	some a in alerts
	contains(a.condition, code)
}

alert_names_code(code) if {
	some a in alerts
	contains(a.name, code)
}

# METADATA
# title: Every error type is watched or diagnosed
# description: >-
#   Every documented error type has an alert whose name or condition holds
#   its code, or an entry naming its code in the runbook's Diagnosis
#   section.
# custom:
#   id: handover.error_coverage
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 3}
#     - {framework: NIST AI RMF, id: MANAGE 2.3}
#     - {framework: NIST AI RMF, id: MANAGE 4.3}
#     - {framework: ISO/IEC 42001, id: A.8.4}
deny contains r if {
	object.get(runbook, "exists", false) == true
	some i, e in object.get(input.model.handover, "errorTypes", [])
	not alert_names_code(e.code)
	object.get(runbook, ["error_codes", e.code, "in_diagnosis"], false) != true
	msg := sprintf("error type %s has no alert naming it and no entry in the runbook's Diagnosis section", [e.code])
	r := lib.result("handover.error_coverage", msg, sprintf("handover.errorTypes[%d].code", [i]))
}

# METADATA
# title: Paging alerts have a rotation to page
# description: An alert of severity "page" needs an on-call rotation to page.
# custom:
#   id: handover.page_rotation
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(e)}
#     - {framework: NIST AI RMF, id: MANAGE 4.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.6}
deny contains r if {
	some a in alerts
	a.severity == "page"
	not lib.nonempty(object.get(input.model.handover, ["onCall", "rotation"], ""))
	msg := sprintf("alert %s pages, but the on-call team has no rotation", [a.name])
	r := lib.result("handover.page_rotation", msg, "handover.onCall")
}

min_words := lib.policy.runbookMinWords

# section_content is the evidence of the required section s, when the
# runbook has it.
section_content(s) := c if {
	some c in object.get(runbook, "content", [])
	lower(trim_space(c.title)) == lower(s)
}

# METADATA
# title: Runbook sections are written
# description: >-
#   Each required section of the runbook has substantive text: not empty,
#   no TODO(slipway), at least platform.policy.runbookMinWords words (20 by
#   default). The runbook names every documented error code and the
#   rollback command, slipway rollback.
# custom:
#   id: handover.runbook_content
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 1}
#     - {framework: NIST AI RMF, id: MANAGE 4.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.7}
#     - {framework: ISO/IEC 42001, id: A.8.2}
deny contains r if {
	some s in required_sections
	c := section_content(s)
	c.placeholders == 0
	c.words == 0
	r := lib.result("handover.runbook_content", sprintf("runbook %s: section %q is empty", [input.model.handover.runbook, s]), "handover.runbook")
}

deny contains r if {
	some s in required_sections
	c := section_content(s)
	c.placeholders > 0
	msg := sprintf("runbook %s: section %q still holds the placeholder %s", [input.model.handover.runbook, s, placeholder])
	r := lib.result("handover.runbook_content", msg, "handover.runbook")
}

deny contains r if {
	some s in required_sections
	c := section_content(s)
	c.placeholders == 0
	c.words > 0
	c.words < min_words
	msg := sprintf("runbook %s: section %q has %d words, fewer than policy.runbookMinWords (%d)", [input.model.handover.runbook, s, c.words, min_words])
	r := lib.result("handover.runbook_content", msg, "handover.runbook")
}

deny contains r if {
	object.get(runbook, "exists", false) == true
	some i, e in object.get(input.model.handover, "errorTypes", [])
	object.get(runbook, ["error_codes", e.code, "named"], false) != true
	msg := sprintf("runbook %s does not name error code %s", [input.model.handover.runbook, e.code])
	r := lib.result("handover.runbook_content", msg, sprintf("handover.errorTypes[%d].code", [i]))
}

deny contains r if {
	object.get(runbook, "exists", false) == true
	object.get(runbook, "names_rollback_command", false) != true
	msg := sprintf("runbook %s does not show the rollback command, slipway rollback", [input.model.handover.runbook])
	r := lib.result("handover.runbook_content", msg, "handover.runbook")
}

serving_kinds := {"online", "streaming"}

# METADATA
# title: Health checks set
# description: >-
#   An online or streaming deployment has a readiness and a liveness check,
#   each an HTTP path or a command, in its template (health.readiness,
#   health.liveness).
# custom:
#   id: handover.health_checks
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(e)}
#     - {framework: NIST AI RMF, id: MANAGE 4.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.6}
deny contains r if {
	kind := object.get(input.model, ["deployment", "resolved", "kind"], "")
	kind in serving_kinds
	some probe in ["readiness", "liveness"]
	object.get(input.model.deployment.resolved, ["health", probe], null) == null
	msg := sprintf("the %s template %s has no %s check", [kind, input.model.deployment.template, probe])
	r := lib.result("handover.health_checks", msg, "deployment.template")
}

deny contains r if {
	kind := object.get(input.model, ["deployment", "resolved", "kind"], "")
	kind in serving_kinds
	some probe in ["readiness", "liveness"]
	p := input.model.deployment.resolved.health[probe]
	not lib.nonempty(object.get(p, "path", ""))
	count(object.get(p, "command", [])) == 0
	msg := sprintf("the %s check of template %s has neither a path nor a command", [probe, input.model.deployment.template])
	r := lib.result("handover.health_checks", msg, "deployment.template")
}
