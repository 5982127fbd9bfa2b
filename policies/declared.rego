# METADATA
# title: Declarations
# description: >-
#   What only people can state about a model, each block declared by its
#   owner: the intended purpose and foreseeable misuse, the human oversight
#   measures, the instructions for use and the risk register. The rules check
#   that each block is complete, and that a risk's mitigation links rules and
#   test suites that exist; they cannot check that what is declared is true,
#   so the audit report shows a passing block as declared by its owner,
#   never as verified. A protected environment requires every block; outside
#   one, a block that is absent is not applicable and one that is present is
#   judged all the same.
package slipway.declared

import data.slipway.lib

# block is the model's declaration named b, or undefined.
block(b) := v if {
	v := input.model[b]
	is_object(v)
}

# absent says why a missing block b is, or is not, a denial.
absent(id, b, what) := lib.result(id, sprintf("model.%s (%s) is not declared: a protected environment requires it", [b, what]), b) if lib.protected

not_applicable contains r if {
	some [id, b] in [
		["declared.purpose", "purpose"],
		["declared.oversight", "oversight"],
		["declared.instructions", "instructions"],
		["declared.risk_register", "riskRegister"],
	]
	not block(b)
	not lib.protected
	r := lib.result(id, sprintf("%s is not declared, and %s is not protected", [b, input.environment.name]), b)
}

# empty holds when list field f of object o has no entry with text in it.
empty(o, f) if count([s | some s in object.get(o, f, []); lib.nonempty(s)]) == 0

# no_owner holds when block b names no owner.
no_owner(b) if not lib.nonempty(object.get(block(b), "owner", ""))

# METADATA
# title: Intended purpose and foreseeable misuse declared
# description: >-
#   The model declares its intended purpose and the misuse that can
#   reasonably be foreseen (model.purpose), with the owner who declares
#   them. Required in protected environments.
# custom:
#   id: declared.purpose
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 1(a)}
#     - {framework: EU AI Act, id: Annex IV 3}
#     - {framework: NIST AI RMF, id: MAP 1.1}
#     - {framework: NIST AI RMF, id: MAP 3.3}
#     - {framework: ISO/IEC 42001, id: A.9.4}
deny contains r if {
	not block("purpose")
	r := absent("declared.purpose", "purpose", "the intended purpose")
}

deny contains r if {
	p := block("purpose")
	not lib.nonempty(object.get(p, "intended", ""))
	r := lib.result("declared.purpose", "purpose.intended is empty", "purpose.intended")
}

deny contains r if {
	p := block("purpose")
	empty(p, "misuse")
	r := lib.result("declared.purpose", "purpose.misuse lists no reasonably foreseeable misuse", "purpose.misuse")
}

deny contains r if {
	block("purpose")
	no_owner("purpose")
	r := lib.result("declared.purpose", "purpose names no owner who declares it", "purpose.owner")
}

# METADATA
# title: Human oversight measures declared
# description: >-
#   The model declares its human oversight measures (model.oversight): the
#   measures, the roles who may override an output and the share of
#   decisions expected to be referred to a person, with the owner who
#   declares them. Required in protected environments.
# custom:
#   id: declared.oversight
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(e)}
#     - {framework: EU AI Act, id: Annex IV 3}
#     - {framework: EU AI Act, id: Art. 14}
#     - {framework: NIST AI RMF, id: MAP 3.5}
#     - {framework: ISO/IEC 42001, id: A.9.2}
deny contains r if {
	not block("oversight")
	r := absent("declared.oversight", "oversight", "human oversight")
}

deny contains r if {
	o := block("oversight")
	some [f, what] in [["measures", "no oversight measure"], ["overrideBy", "no role who may override an output"]]
	empty(o, f)
	r := lib.result("declared.oversight", sprintf("oversight.%s names %s", [f, what]), sprintf("oversight.%s", [f]))
}

deny contains r if {
	o := block("oversight")
	not is_number(object.get(o, "referralRate", null))
	r := lib.result("declared.oversight", "oversight.referralRate, the share of decisions expected to be referred to a person, is not set", "oversight")
}

deny contains r if {
	block("oversight")
	no_owner("oversight")
	r := lib.result("declared.oversight", "oversight names no owner who declares it", "oversight.owner")
}

# METADATA
# title: Instructions for use declared
# description: >-
#   The model declares instructions for use for its deployers
#   (model.instructions): the known limitations of its performance and the
#   specification of its input data, with the owner who declares them.
#   Required in protected environments.
# custom:
#   id: declared.instructions
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 1(h)}
#     - {framework: EU AI Act, id: Art. 13}
#     - {framework: NIST AI RMF, id: MAP 2.2}
#     - {framework: ISO/IEC 42001, id: A.8.2}
deny contains r if {
	not block("instructions")
	r := absent("declared.instructions", "instructions", "the instructions for use")
}

deny contains r if {
	i := block("instructions")
	empty(i, "limitations")
	r := lib.result("declared.instructions", "instructions.limitations lists no known limitation", "instructions.limitations")
}

deny contains r if {
	i := block("instructions")
	not lib.nonempty(object.get(i, "inputs", ""))
	r := lib.result("declared.instructions", "instructions.inputs does not specify the input data", "instructions")
}

deny contains r if {
	block("instructions")
	no_owner("instructions")
	r := lib.result("declared.instructions", "instructions names no owner who declares them", "instructions.owner")
}

# known_rules are the ids of every rule the engine judges with.
known_rules := object.get(input, "rules", {})

suites := object.get(input, ["evidence", "tests", "suites"], {})

# METADATA
# title: Risk register declared
# description: >-
#   The model keeps a risk register (model.riskRegister): at least one risk,
#   each with a likelihood, a severity and a mitigation linked to rules or
#   test suites; every linked rule is one the policies define and every
#   linked suite is in the model's JUnit evidence; and a named role has
#   accepted the residual risk on a date not after the evaluation. Required
#   in protected environments.
# custom:
#   id: declared.risk_register
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Art. 9}
#     - {framework: EU AI Act, id: Annex IV 5}
#     - {framework: NIST AI RMF, id: MAP 5.1}
#     - {framework: NIST AI RMF, id: MANAGE 1.3}
#     - {framework: NIST AI RMF, id: MANAGE 1.4}
#     - {framework: ISO/IEC 42001, id: A.5.3}
deny contains r if {
	not block("riskRegister")
	r := absent("declared.risk_register", "riskRegister", "the risk register")
}

deny contains r if {
	block("riskRegister")
	no_owner("riskRegister")
	r := lib.result("declared.risk_register", "riskRegister names no owner who declares it", "riskRegister.owner")
}

deny contains r if {
	rr := block("riskRegister")
	count(object.get(rr, "risks", [])) == 0
	r := lib.result("declared.risk_register", "riskRegister lists no risk", "riskRegister.risks")
}

deny contains r if {
	some i, risk in object.get(block("riskRegister"), "risks", [])
	count(object.get(risk, ["mitigation", "rules"], [])) + count(object.get(risk, ["mitigation", "suites"], [])) == 0
	msg := sprintf("risk %s: its mitigation links no rule or test suite that evidences it", [risk.id])
	r := lib.result("declared.risk_register", msg, sprintf("riskRegister.risks[%d].mitigation", [i]))
}

deny contains r if {
	some i, risk in object.get(block("riskRegister"), "risks", [])
	some j, id in object.get(risk, ["mitigation", "rules"], [])
	not known_rules[id]
	msg := sprintf("risk %s: mitigation rule %s is not a rule the policies define", [risk.id, id])
	r := lib.result("declared.risk_register", msg, sprintf("riskRegister.risks[%d].mitigation.rules[%d]", [i, j]))
}

deny contains r if {
	some i, risk in object.get(block("riskRegister"), "risks", [])
	some j, name in object.get(risk, ["mitigation", "suites"], [])
	not suites[name]
	msg := sprintf("risk %s: mitigation suite %q is not in the JUnit reports", [risk.id, name])
	r := lib.result("declared.risk_register", msg, sprintf("riskRegister.risks[%d].mitigation.suites[%d]", [i, j]))
}

deny contains r if {
	rr := block("riskRegister")
	not is_object(object.get(rr, "acceptance", null))
	r := lib.result("declared.risk_register", "no named role has accepted the residual risk (riskRegister.acceptance)", "riskRegister")
}

deny contains r if {
	a := block("riskRegister").acceptance
	some f in ["role", "by", "date"]
	not lib.nonempty(object.get(a, f, ""))
	r := lib.result("declared.risk_register", sprintf("riskRegister.acceptance has no %s", [f]), "riskRegister.acceptance")
}

deny contains r if {
	a := block("riskRegister").acceptance
	lib.nonempty(object.get(a, "date", ""))
	time.parse_ns("2006-01-02", a.date) > time.parse_rfc3339_ns(input.now)
	r := lib.result("declared.risk_register", sprintf("the residual risk is accepted on %s, after the evaluation", [a.date]), "riskRegister.acceptance.date")
}
