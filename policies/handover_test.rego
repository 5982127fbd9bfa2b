package slipway.handover_test

import data.slipway.fixtures_test as fx
import data.slipway.handover

ids(set) := {r.id | some r in set}

only(doc, id) if ids(handover.deny) == {id} with input as doc

test_passing_unit if {
	count(handover.deny) == 0 with input as fx.unit
}

test_runbook_missing if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/runbook", "value": {"path": "x", "exists": false, "sections": []}}])
	only(doc, "handover.runbook_exists")
}

test_runbook_section_missing if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/runbook/sections", "value": ["overview", "Alerts", "Contacts"]}])
	some r in handover.deny with input as doc
	r.id == "handover.runbook_sections"
	r.field == "handover.runbook"
	r.msg == "runbook models/credit-default/RUNBOOK.md has no \"Rollback\" section"
	only(doc, "handover.runbook_sections")
}

test_platform_runbook_sections if {
	doc := fx.with_patch([{"op": "add", "path": "/platform/policy/runbookSections", "value": ["Overview", "Capacity"]}])
	only(doc, "handover.runbook_sections")
}

test_on_call if {
	doc := fx.with_patch([{"op": "replace", "path": "/model/handover/onCall/team", "value": " "}])
	only(doc, "handover.on_call")
}

test_support_plan_contact if {
	doc := fx.with_patch([{"op": "remove", "path": "/model/handover/supportPlan/contact"}])
	only(doc, "handover.support_plan")
}

test_support_plan_ended if {
	doc := fx.with_patch([{"op": "replace", "path": "/model/handover/supportPlan/until", "value": "2026-01-31"}])
	some r in handover.deny with input as doc
	r.field == "handover.supportPlan.until"
}

test_slos if {
	doc := fx.with_patch([{"op": "replace", "path": "/model/handover/slos", "value": []}])
	only(doc, "handover.slos")
}

test_paging_alert if {
	doc := fx.with_patch([{"op": "replace", "path": "/model/handover/alerts/0/severity", "value": "ticket"}])
	only(doc, "handover.paging_alert")
}

test_prediction_logging_off if {
	doc := fx.with_patch([{"op": "replace", "path": "/model/handover/logging/predictions", "value": false}])
	only(doc, "handover.prediction_logging")
}

test_prediction_logging_no_retention if {
	doc := fx.with_patch([{"op": "replace", "path": "/model/handover/logging/retentionDays", "value": 0}])
	only(doc, "handover.prediction_logging")
}

test_prediction_logging_too_long if {
	doc := fx.with_patch([{"op": "replace", "path": "/model/handover/logging/retentionDays", "value": 800}])
	some r in handover.deny with input as doc
	r.msg == "prediction logs are kept 800 days, over the platform's maximum of 400"
}

test_error_types if {
	doc := fx.with_patch([{"op": "replace", "path": "/model/handover/errorTypes", "value": []}])
	only(doc, "handover.error_types")
}

test_rollback_declared_tested_is_ignored if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/rollback_rehearsals", "value": []},
		{"op": "replace", "path": "/model/handover/rollback/tested", "value": true},
	])
	some r in handover.deny with input as doc
	r.field == "handover.rollback.strategy"
	r.msg == "no verified rollback of credit-default is in the ledger: rehearse strategy \"previous-version\" with slipway rollback in an environment that is not protected"
	only(doc, "handover.rollback_tested")
}

rehearsal_cases := {
	"failed": {"op": "replace", "path": "/rollback_rehearsals/0/outcome", "value": "failed"},
	"other strategy": {"op": "replace", "path": "/rollback_rehearsals/0/strategy", "value": "blue-green"},
	"protected environment": {"op": "replace", "path": "/rollback_rehearsals/0/protected", "value": true},
	"too old": {"op": "replace", "path": "/rollback_rehearsals/0/recorded_at", "value": "2026-08-24T09:59:59Z"},
}

test_rollback_rehearsal_not_counted if {
	every op in rehearsal_cases {
		only(fx.with_patch([op]), "handover.rollback_tested")
	}
}

test_rollback_rehearsal_message if {
	doc := fx.with_patch([rehearsal_cases["other strategy"]])
	some r in handover.deny with input as doc
	r.msg == "no successful rollback of credit-default with strategy \"previous-version\" in an environment that is not protected within 90 days; the newest, releases/staging/credit-default/rollback/20261101T090000Z-3.intoto.json, was succeeded with strategy \"blue-green\" in staging on 2026-11-01T09:00:00Z"
}

test_rollback_rehearsal_days_from_policy if {
	old := fx.with_patch([{"op": "replace", "path": "/rollback_rehearsals/0/recorded_at", "value": "2026-06-01T00:00:00Z"}])
	only(old, "handover.rollback_tested")
	count(handover.deny) == 0 with input as old with input.platform.policy.rollbackRehearsalDays as 200
}

test_rollback_rehearsal_exactly_at_the_limit if {
	# 90 days before now (2026-11-23T10:00:00Z) still counts.
	doc := fx.with_patch([{"op": "replace", "path": "/rollback_rehearsals/0/recorded_at", "value": "2026-08-25T10:00:00Z"}])
	count(handover.deny) == 0 with input as doc
}

test_rollback_rehearsal_pending_warns_outside_protected if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/rollback_rehearsals", "value": []},
		{"op": "replace", "path": "/environment", "value": fx.staging},
	])
	count(handover.deny) == 0 with input as doc
	ids(handover.warn) == {"handover.rollback_rehearsal_pending"} with input as doc
}

test_acceptance_no_team if {
	doc := fx.with_patch([{"op": "remove", "path": "/model/handover/acceptance"}])
	only(doc, "handover.acceptance")
}

# The typed by and date are not evidence: without them the review accepts.
test_acceptance_typed_fields_not_evidence if {
	doc := fx.with_patch([
		{"op": "remove", "path": "/model/handover/acceptance/by"},
		{"op": "remove", "path": "/model/handover/acceptance/date"},
	])
	count(handover.deny) == 0 with input as doc
}

test_acceptance_no_member_approved if {
	doc := fx.with_patch([{"op": "replace", "path": "/acceptance/by", "value": null}])
	some r in handover.deny with input as doc
	r.id == "handover.acceptance"
	r.field == "handover.acceptance.team"
	r.msg == "no member of team risk-ops who wrote none of the change approved the pull request: operations has not accepted the model"
	only(doc, "handover.acceptance")
}

# Outside protected environments a missing acceptance is pending.
test_acceptance_not_given_warns_outside_protected if {
	doc := fx.with_patch([{"op": "replace", "path": "/acceptance/by", "value": null}, {"op": "replace", "path": "/environment", "value": fx.staging}])
	count(handover.deny) == 0 with input as doc
	some r in handover.warn with input as doc
	r.id == "handover.acceptance_pending"
	startswith(r.msg, "no member of team risk-ops")
}

test_acceptance_members_unknown if {
	doc := fx.with_patch([{"op": "replace", "path": "/acceptance", "value": {"team": "risk-ops", "members": null, "by": null}}])
	some r in handover.deny with input as doc
	contains(r.msg, "the members of team risk-ops are not known")
	only(doc, "handover.acceptance")
}

# A local check: pending, a warning, in every environment.
test_acceptance_pending_warns_in_a_check if {
	doc := fx.with_patch([{"op": "replace", "path": "/acceptance", "value": null}])
	count(handover.deny) == 0 with input as doc
	some r in handover.warn with input as doc
	r.id == "handover.acceptance_pending"
	r.msg == "acceptance by team risk-ops is not known here: only an approving review on the pull request counts (slipway check --github, slipway release --github read it)"
}

# A release without the reviews: a deny in a protected environment ...
test_acceptance_pending_denied_on_protected_release if {
	doc := fx.with_patch([{"op": "replace", "path": "/acceptance", "value": null}, {"op": "replace", "path": "/phase", "value": "release"}])
	only(doc, "handover.acceptance")
	not "handover.acceptance_pending" in ids(handover.warn) with input as doc
}

# ... and a warning elsewhere.
test_acceptance_pending_warns_on_unprotected_release if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/acceptance", "value": null}, {"op": "replace", "path": "/phase", "value": "release"},
		{"op": "replace", "path": "/environment", "value": fx.staging},
	])
	count({r | some r in handover.deny with input as doc; r.id == "handover.acceptance"}) == 0
	"handover.acceptance_pending" in ids(handover.warn) with input as doc
}

# An acceptance of this version by the team that a verified release's
# record holds stands, with the reviews or without them.
accepted_release := {"record": "releases/production/credit-default/2.3.0.json", "version": fx.model.version, "team": "risk-ops", "user": "olivia", "review_id": 7, "submitted_at": "2026-11-20T10:00:00Z"}

test_acceptance_on_record_stands if {
	every patch in [
		[{"op": "replace", "path": "/acceptance/by", "value": null}],
		[{"op": "replace", "path": "/acceptance", "value": null}, {"op": "replace", "path": "/phase", "value": "release"}],
		[{"op": "replace", "path": "/acceptance", "value": {"team": "risk-ops", "members": null, "by": null}}],
	] {
		doc := fx.with_patch(array.concat(patch, [{"op": "add", "path": "/accepted_release", "value": accepted_release}]))
		count({r | some r in handover.deny with input as doc; r.id == "handover.acceptance"}) == 0
		count({r | some r in handover.not_applicable with input as doc; r.id == "handover.acceptance"}) == 0
		count({r | some r in handover.warn with input as doc; r.id == "handover.acceptance_pending"}) == 0
	}
}

# An acceptance on the record of another version, or by another team, is
# not this one's.
test_acceptance_on_record_of_another_version_or_team if {
	every other in [{"version": "0.9.0"}, {"team": "someone-else"}] {
		doc := fx.with_patch([
			{"op": "replace", "path": "/acceptance/by", "value": null},
			{"op": "add", "path": "/accepted_release", "value": object.union(accepted_release, other)},
		])
		only(doc, "handover.acceptance")
	}
}

# Without the reviews and without an acceptance on the record, a check
# judges nothing: not applicable, with the pending warning.
test_acceptance_not_applicable_without_reviews if {
	doc := fx.with_patch([{"op": "replace", "path": "/acceptance", "value": null}])
	some r in handover.not_applicable with input as doc
	r.id == "handover.acceptance"
}

test_placeholders if {
	doc := fx.with_patch([{"op": "add", "path": "/placeholders", "value": ["handover.errorTypes[0].action", "handover.onCall.rotation"]}])
	fields := {r.field | some r in handover.deny with input as doc; r.id == "handover.placeholder"}
	fields == {"handover.onCall.rotation", "handover.errorTypes[0].action"}
}

test_runbook_placeholders if {
	doc := fx.with_patch([{"op": "add", "path": "/evidence/runbook/placeholders", "value": 3}])
	some r in handover.deny with input as doc
	r.id == "handover.placeholder"
	r.field == "handover.runbook"
	r.msg == "runbook models/credit-default/RUNBOOK.md still holds the placeholder TODO(slipway) on 3 line(s)"
}

test_alert_not_promql if {
	doc := fx.with_patch([{"op": "replace", "path": "/alerts/1", "value": {"name": "Drift", "metrics": [], "compares": false, "error": "line 1, column 5: unexpected end of input", "at": {"file": "models/credit-default/model.cue", "line": 40, "column": 52}}}])
	some r in handover.deny with input as doc
	r.id == "handover.alert_conditions"
	r.field == "handover.alerts[1].condition"
	r.at == {"file": "models/credit-default/model.cue", "line": 40, "column": 52}
	r.msg == "alert Drift: condition is not PromQL: line 1, column 5: unexpected end of input"
	only(doc, "handover.alert_conditions")
}

test_alert_compares_nothing if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/model/handover/alerts/1/condition", "value": "nonsense"},
		{"op": "replace", "path": "/alerts/1", "value": {"name": "Drift", "metrics": ["nonsense"], "compares": false}},
	])
	some r in handover.deny with input as doc
	r.msg == "alert Drift: condition \"nonsense\" compares nothing, so it fires whenever its series exist"
	only(doc, "handover.alert_conditions")
}

test_slo_without_metric if {
	doc := fx.with_patch([{"op": "remove", "path": "/model/handover/slos/0/metric"}])
	some r in handover.deny with input as doc
	r.field == "handover.slos[0]"
	only(doc, "handover.slo_alerts")
}

test_slo_metric_not_alerted if {
	doc := fx.with_patch([{"op": "replace", "path": "/model/handover/slos/0/metric", "value": "scoring_latency_seconds_bucket"}])
	some r in handover.deny with input as doc
	r.msg == "SLO availability: no alert reads its metric scoring_latency_seconds_bucket"
	only(doc, "handover.slo_alerts")
}

test_error_type_diagnosed_not_alerted if {
	count(handover.deny) == 0 with input as fx.unit
}

test_error_type_alerted_not_diagnosed if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/evidence/runbook/error_codes/E_TIMEOUT/in_diagnosis", "value": false},
		{"op": "replace", "path": "/model/handover/alerts/1/condition", "value": "rate(errors_total{code=\"E_TIMEOUT\"}[5m]) > 0"},
	])
	count(handover.deny) == 0 with input as doc
}

test_error_type_uncovered if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/runbook/error_codes/E_TIMEOUT/in_diagnosis", "value": false}])
	some r in handover.deny with input as doc
	r.field == "handover.errorTypes[0].code"
	only(doc, "handover.error_coverage")
}

test_page_alert_needs_rotation if {
	doc := fx.with_patch([{"op": "remove", "path": "/model/handover/onCall/rotation"}])
	only(doc, "handover.page_rotation")
}

test_runbook_section_placeholder if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/evidence/runbook/content/2", "value": {"title": "Rollback", "words": 1, "placeholders": 1}},
		{"op": "replace", "path": "/evidence/runbook/placeholders", "value": 1},
	])
	msgs := {r.msg | some r in handover.deny with input as doc; r.id == "handover.runbook_content"}
	msgs == {"runbook models/credit-default/RUNBOOK.md: section \"Rollback\" still holds the placeholder TODO(slipway)"}
	ids(handover.deny) == {"handover.runbook_content", "handover.placeholder"} with input as doc
}

test_runbook_section_empty if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/runbook/content/0/words", "value": 0}])
	some r in handover.deny with input as doc
	r.msg == "runbook models/credit-default/RUNBOOK.md: section \"Overview\" is empty"
	only(doc, "handover.runbook_content")
}

test_runbook_min_words_from_platform if {
	doc := fx.with_patch([{"op": "add", "path": "/platform/policy/runbookMinWords", "value": 50}])
	count({r | some r in handover.deny with input as doc; r.id == "handover.runbook_content"}) == 3
	only(doc, "handover.runbook_content")
}

test_runbook_misses_code_and_rollback_command if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/evidence/runbook/error_codes/E_TIMEOUT", "value": {"named": false, "in_diagnosis": false}},
		{"op": "replace", "path": "/evidence/runbook/names_rollback_command", "value": false},
		{"op": "replace", "path": "/model/handover/alerts/1/condition", "value": "rate(errors_total{code=\"E_TIMEOUT\"}[5m]) > 0"},
	])
	msgs := {r.msg | some r in handover.deny with input as doc}
	msgs == {
		"runbook models/credit-default/RUNBOOK.md does not name error code E_TIMEOUT",
		"runbook models/credit-default/RUNBOOK.md does not show the rollback command, slipway rollback",
	}
}

test_health_checks_missing if {
	doc := fx.with_patch([{"op": "remove", "path": "/model/deployment/resolved/health/liveness"}])
	some r in handover.deny with input as doc
	r.msg == "the online template online-small has no liveness check"
	r.field == "deployment.template"
	only(doc, "handover.health_checks")
}

test_health_check_without_probe if {
	doc := fx.with_patch([{"op": "replace", "path": "/model/deployment/resolved/health/readiness", "value": {"periodSeconds": 10, "failureThreshold": 3}}])
	only(doc, "handover.health_checks")
}

test_batch_needs_no_health_checks if {
	doc := fx.with_patch([{"op": "replace", "path": "/model/deployment/resolved", "value": {"name": "nightly", "kind": "batch"}}])
	count(handover.deny) == 0 with input as doc
}
