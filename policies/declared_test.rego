package slipway.declared_test

import data.slipway.declared
import data.slipway.fixtures_test as fx

# unit is the fixtures' production unit, every block declared, with a
# mitigation that links a rule and the engine's rule ids.
unit := json.patch(fx.unit, [
	{"op": "add", "path": "/model/riskRegister/risks/0/mitigation/rules", "value": ["fairness.demographic_parity"]},
	{"op": "add", "path": "/rules", "value": {"fairness.demographic_parity": true, "declared.risk_register": true}},
])

# bare is the fixtures' unit without any declaration.
bare := json.patch(fx.unit, [
	{"op": "remove", "path": "/model/purpose"},
	{"op": "remove", "path": "/model/oversight"},
	{"op": "remove", "path": "/model/instructions"},
	{"op": "remove", "path": "/model/riskRegister"},
])

patch(ops) := json.patch(unit, ops)

ids(set) := {r.id | some r in set}

only(doc, id) if ids(declared.deny) == {id} with input as doc

msgs(doc) := {r.msg | some r in declared.deny with input as doc}

test_complete_unit_passes if {
	count(declared.deny) == 0 with input as unit
	count(declared.not_applicable) == 0 with input as unit
}

test_fixture_passes if {
	count(declared.deny) == 0 with input as fx.unit
}

test_missing_blocks_deny_in_production if {
	ids(declared.deny) == {"declared.purpose", "declared.oversight", "declared.instructions", "declared.risk_register"} with input as bare
	some r in declared.deny with input as bare
	r.msg == "model.riskRegister (the risk register) is not declared: a protected environment requires it"
}

test_rule_link_without_catalogue_denies if {
	doc := json.patch(unit, [{"op": "remove", "path": "/rules"}])
	only(doc, "declared.risk_register")
}

test_absent_blocks_not_applicable_outside_protected if {
	doc := json.patch(bare, [{"op": "replace", "path": "/environment", "value": fx.staging}])
	count(declared.deny) == 0 with input as doc
	ids(declared.not_applicable) == {"declared.purpose", "declared.oversight", "declared.instructions", "declared.risk_register"} with input as doc
}

test_present_block_judged_outside_protected if {
	doc := patch([
		{"op": "replace", "path": "/environment", "value": fx.staging},
		{"op": "replace", "path": "/model/purpose/misuse", "value": []},
	])
	only(doc, "declared.purpose")
	count(declared.not_applicable) == 0 with input as doc
}

test_purpose_misuse_blank if {
	doc := patch([{"op": "replace", "path": "/model/purpose/misuse", "value": [" "]}])
	only(doc, "declared.purpose")
	msgs(doc) == {"purpose.misuse lists no reasonably foreseeable misuse"}
}

test_purpose_owner if {
	only(patch([{"op": "remove", "path": "/model/purpose/owner"}]), "declared.purpose")
}

test_oversight_override_roles if {
	doc := patch([{"op": "replace", "path": "/model/oversight/overrideBy", "value": []}])
	only(doc, "declared.oversight")
	msgs(doc) == {"oversight.overrideBy names no role who may override an output"}
}

test_oversight_referral_rate if {
	only(patch([{"op": "remove", "path": "/model/oversight/referralRate"}]), "declared.oversight")
}

test_instructions_inputs if {
	only(patch([{"op": "remove", "path": "/model/instructions/inputs"}]), "declared.instructions")
}

test_instructions_limitations if {
	only(patch([{"op": "replace", "path": "/model/instructions/limitations", "value": []}]), "declared.instructions")
}

test_risk_unknown_rule if {
	doc := patch([{"op": "replace", "path": "/model/riskRegister/risks/0/mitigation/rules", "value": ["fairness.demographic_parity", "fairness.made_up"]}])
	some r in declared.deny with input as doc
	r.field == "riskRegister.risks[0].mitigation.rules[1]"
	msgs(doc) == {"risk R1: mitigation rule fairness.made_up is not a rule the policies define"}
}

test_risk_unknown_suite if {
	doc := patch([{"op": "replace", "path": "/model/riskRegister/risks/0/mitigation/suites", "value": ["fuzz"]}])
	msgs(doc) == {"risk R1: mitigation suite \"fuzz\" is not in the JUnit reports"}
}

test_risk_without_links if {
	doc := patch([{"op": "replace", "path": "/model/riskRegister/risks/0/mitigation", "value": {"description": "we are careful about it"}}])
	msgs(doc) == {"risk R1: its mitigation links no rule or test suite that evidences it"}
}

test_no_risks if {
	only(patch([{"op": "replace", "path": "/model/riskRegister/risks", "value": []}]), "declared.risk_register")
}

test_residual_risk_not_accepted if {
	doc := patch([{"op": "remove", "path": "/model/riskRegister/acceptance"}])
	msgs(doc) == {"no named role has accepted the residual risk (riskRegister.acceptance)"}
}

test_acceptance_role_blank if {
	doc := patch([{"op": "replace", "path": "/model/riskRegister/acceptance/role", "value": ""}])
	msgs(doc) == {"riskRegister.acceptance has no role"}
}

test_acceptance_in_the_future if {
	doc := patch([{"op": "replace", "path": "/model/riskRegister/acceptance/date", "value": "2026-12-01"}])
	msgs(doc) == {"the residual risk is accepted on 2026-12-01, after the evaluation"}
}
