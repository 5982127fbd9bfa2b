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
	doc := fx.with_patch([{"op": "replace", "path": "/platform/policy/runbookSections", "value": ["Overview", "Capacity"]}])
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

test_acceptance_missing if {
	doc := fx.with_patch([{"op": "remove", "path": "/model/handover/acceptance"}])
	only(doc, "handover.acceptance")
}

test_acceptance_incomplete if {
	doc := fx.with_patch([{"op": "replace", "path": "/model/handover/acceptance/by", "value": ""}])
	only(doc, "handover.acceptance")
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
