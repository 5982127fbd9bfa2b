package slipway.testing_test

import data.slipway.fixtures_test as fx
import data.slipway.testing

ids(set) := {r.id | some r in set}

test_passing_unit if {
	count(testing.deny) == 0 with input as fx.unit
	count(testing.warn) == 0 with input as fx.unit
}

test_report_not_read if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/tests/reports", "value": []}])
	some r in testing.deny with input as doc
	r.id == "testing.reports_present"
	r.field == "tests.reports[0]"
}

test_required_suite_missing if {
	doc := fx.with_patch([{"op": "remove", "path": "/evidence/tests/suites/integration"}])
	some r in testing.deny with input as doc
	r.id == "testing.required_suites"
	r.field == "tests.requiredSuites[1]"
}

test_required_suite_fails if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/tests/suites/unit", "value": {
		"tests": 10, "failures": 2, "errors": 0, "skipped": 0, "passed": false,
		"failed_cases": [{"name": "test_a", "message": "boom"}, {"name": "test_b", "message": "boom"}],
	}}])
	some r in testing.deny with input as doc
	r.id == "testing.required_suites_pass"
	r.msg == "required suite \"unit\" failed: 2 failure(s), 0 error(s): test_a, test_b"
}

test_required_suite_empty if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/tests/suites/unit", "value": {
		"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "passed": false,
	}}])
	some r in testing.deny with input as doc
	r.id == "testing.required_suites_pass"
	r.msg == "required suite \"unit\" has no tests: a suite that ran nothing proves nothing"
}

test_required_suite_skips if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/tests/suites/unit", "value": {
		"tests": 10, "failures": 0, "errors": 0, "skipped": 1, "passed": true, "skipped_cases": ["test_slow"],
	}}])
	ids(testing.deny) == {"testing.no_skipped_required"} with input as doc
}

test_other_suite_failure_warns if {
	doc := fx.with_patch([{"op": "add", "path": "/evidence/tests/suites/smoke", "value": {"tests": 1, "failures": 0, "errors": 1, "skipped": 0, "passed": false}}])
	count(testing.deny) == 0 with input as doc
	ids(testing.warn) == {"testing.other_failures"} with input as doc
}

test_missing_evidence_fails_closed if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence", "value": null}])
	ids(testing.deny) == {"testing.reports_present", "testing.required_suites"} with input as doc
}
