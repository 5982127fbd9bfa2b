# METADATA
# title: Testing
# description: >-
#   The model's JUnit reports were found and read, the required suites ran
#   and passed, and none of their tests was skipped.
package slipway.testing

import data.slipway.lib

suites := input.evidence.tests.suites

read_reports := {r.path | some r in object.get(input, ["evidence", "tests", "reports"], [])}

# METADATA
# title: JUnit reports present
# description: Every JUnit report the spec lists was found and read.
# custom:
#   id: testing.reports_present
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: NIST AI RMF, id: MEASURE 2.1}
#     - {framework: ISO/IEC 42001, id: A.6.2.4}
deny contains r if {
	some i, path in input.model.tests.reports
	not path in read_reports
	r := lib.result("testing.reports_present", sprintf("JUnit report %s was not read", [path]), sprintf("tests.reports[%d]", [i]))
}

# METADATA
# title: Required test suites present
# description: Every suite the spec requires appears in the JUnit reports.
# custom:
#   id: testing.required_suites
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: NIST AI RMF, id: MEASURE 2.1}
#     - {framework: NIST AI RMF, id: MEASURE 2.3}
#     - {framework: ISO/IEC 42001, id: A.6.2.4}
deny contains r if {
	some i, name in input.model.tests.requiredSuites
	not suites[name]
	r := lib.result("testing.required_suites", sprintf("required suite %q is not in the JUnit reports", [name]), sprintf("tests.requiredSuites[%d]", [i]))
}

failed(s) if s.passed == false

failed(s) if s.failures > 0

failed(s) if s.errors > 0

failed_names(s) := names if {
	cases := [c.name | some c in object.get(s, "failed_cases", [])]
	count(cases) > 0
	names := sprintf(": %s", [concat(", ", array.slice(cases, 0, 5))])
} else := ""

# METADATA
# title: Required test suites pass
# description: Every required suite has no failures and no errors.
# custom:
#   id: testing.required_suites_pass
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: NIST AI RMF, id: MEASURE 2.3}
#     - {framework: NIST AI RMF, id: MEASURE 2.5}
#     - {framework: ISO/IEC 42001, id: A.6.2.4}
deny contains r if {
	some i, name in input.model.tests.requiredSuites
	s := suites[name]
	failed(s)
	r := lib.result("testing.required_suites_pass", suite_failure(name, s), sprintf("tests.requiredSuites[%d]", [i]))
}

# suite_failure says why a required suite did not pass. A suite without
# tests has not failed anything: it proves nothing, and says so.
suite_failure(name, s) := sprintf("required suite %q has no tests: a suite that ran nothing proves nothing", [name]) if {
	object.get(s, "tests", 0) == 0
} else := sprintf("required suite %q ran none of its %v test(s): all were skipped", [name, s.tests]) if {
	object.get(s, "failures", 0) + object.get(s, "errors", 0) == 0
	object.get(s, "skipped", 0) >= s.tests
} else := sprintf("required suite %q failed: %v failure(s), %v error(s)%s", [
	name, object.get(s, "failures", 0), object.get(s, "errors", 0), failed_names(s),
])

# METADATA
# title: No skipped test in a required suite
# description: >-
#   A skipped test in a required suite is a test that did not run; it fails
#   the gate as a failure would.
# custom:
#   id: testing.no_skipped_required
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: NIST AI RMF, id: MEASURE 2.3}
#     - {framework: ISO/IEC 42001, id: A.6.2.4}
deny contains r if {
	some i, name in input.model.tests.requiredSuites
	s := suites[name]
	s.skipped > 0
	skipped := object.get(s, "skipped_cases", [])
	msg := sprintf("required suite %q skipped %v test(s)%s", [name, s.skipped, skipped_names(skipped)])
	r := lib.result("testing.no_skipped_required", msg, sprintf("tests.requiredSuites[%d]", [i]))
}

skipped_names(names) := sprintf(": %s", [concat(", ", array.slice(names, 0, 5))]) if count(names) > 0

skipped_names(names) := "" if count(names) == 0

# METADATA
# title: Other suites pass
# description: >-
#   A failing suite that is not required does not block, but it is reported.
# custom:
#   id: testing.other_failures
#   severity: warn
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: NIST AI RMF, id: MEASURE 2.3}
#     - {framework: ISO/IEC 42001, id: A.6.2.4}
warn contains r if {
	some name, s in suites
	not name in input.model.tests.requiredSuites
	failed(s)
	msg := sprintf("suite %q failed: %v failure(s), %v error(s)%s", [
		name, object.get(s, "failures", 0), object.get(s, "errors", 0), failed_names(s),
	])
	r := lib.result("testing.other_failures", msg, "tests.reports")
}
