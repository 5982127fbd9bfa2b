# METADATA
# title: Infrastructure
# description: >-
#   Judges the Terraform plan of the unit's stack (input.plan): nothing is
#   destroyed in a protected environment, artifacts are pinned by digest and
#   resource requests fit the environment's limits. The rules apply only when
#   a plan was made (not under --no-plan), except plan_missing, which denies
#   a stack that was to be planned and was not. no_destroy also judges the
#   stacks that belong to no model in the environment (input.kind orphan and
#   shared).
package slipway.infrastructure

import data.slipway.lib

deployment := d if {
	d := input.plan.deployment
	is_object(d)
} else := {}

destroys contains [res.address, verb] if {
	some res in input.plan.resources
	"delete" in res.actions
	verb := destroy_verb(res.actions)
}

destroy_verb(actions) := "replaces" if "create" in actions

destroy_verb(actions) := "deletes" if not "create" in actions

# METADATA
# title: No destroy in a protected environment
# description: >-
#   The plan of a stack in a protected environment deletes or replaces no
#   resource; such a change needs an explicit, approved waiver. This holds
#   for a model's stack, for the orphan stack of a model that left the
#   environment (its plan destroys what it deployed) and for the
#   environment's shared stack.
# custom:
#   id: infrastructure.no_destroy
#   severity: deny
#   requires: [plan]
#   units: [model, orphan, shared]
#   controls:
#     - {framework: EU AI Act, id: Annex IV 6}
#     - {framework: NIST AI RMF, id: GOVERN 1.4}
#     - {framework: NIST AI RMF, id: MANAGE 2.4}
#     - {framework: ISO/IEC 42001, id: A.6.2.5}
deny contains r if {
	input.kind == "model"
	lib.protected
	some [address, verb] in destroys
	msg := sprintf("plan %s %s in protected environment %s", [verb, address, input.environment.name])
	r := lib.result("infrastructure.no_destroy", msg, lib.environment_field)
}

# deletes counts the resources the plan deletes or replaces.
deletes := object.get(input.plan, ["changes", "delete"], 0) + object.get(input.plan, ["changes", "replace"], 0)

# protected_path is the spec path of the environment's protected flag.
protected_path := sprintf("environments.%s.protected", [input.environment.name])

deny contains r if {
	input.kind == "orphan"
	lib.protected
	deletes > 0
	msg := sprintf("model %s no longer deploys to %s: the plan deletes %d resource(s) in this protected environment", [input.model.name, input.environment.name, deletes])
	r := orphan_result(msg)
}

# orphan_result points at the model's environments when the model is still
# in the specs, else at the environment.
orphan_result(msg) := lib.result("infrastructure.no_destroy", msg, "environments") if input.model.version != ""

orphan_result(msg) := lib.spec_result("infrastructure.no_destroy", msg, protected_path) if input.model.version == ""

deny contains r if {
	input.kind == "shared"
	lib.protected
	deletes > 0
	msg := sprintf("plan of %s deletes or replaces %d shared resource(s) in protected environment %s", [input.plan.stack, deletes, input.environment.name])
	r := lib.spec_result("infrastructure.no_destroy", msg, protected_path)
}

# METADATA
# title: Affected stacks planned
# description: >-
#   When planning was requested (no --no-plan) and a unit's stack has no
#   plan summary, the unit is denied: its infrastructure was not judged.
# custom:
#   id: infrastructure.plan_missing
#   severity: deny
#   requires: [plan_expected]
#   controls:
#     - {framework: EU AI Act, id: Annex IV 6}
#     - {framework: NIST AI RMF, id: GOVERN 1.4}
#     - {framework: ISO/IEC 42001, id: A.6.2.5}
deny contains r if {
	input.plan_expected == true
	input.plan == null
	msg := sprintf("stack %s/%s has no plan summary: its infrastructure was not judged", [input.environment.name, input.model.name])
	r := lib.result("infrastructure.plan_missing", msg, "deployment")
}

digest_pattern := `^sha256:[0-9a-f]{64}$`

# METADATA
# title: Artifacts referenced by digest
# description: >-
#   The deployment Slipway rendered pins the model artifact by a sha256
#   digest, the one the spec declares.
# custom:
#   id: infrastructure.artifact_digest
#   severity: deny
#   requires: [plan]
#   controls:
#     - {framework: EU AI Act, id: Annex IV 1}
#     - {framework: EU AI Act, id: Annex IV 2(h)}
#     - {framework: NIST AI RMF, id: MEASURE 2.7}
#     - {framework: ISO/IEC 42001, id: A.6.2.5}
deny contains r if {
	count(deployment) > 0
	d := object.get(deployment, "artifact_digest", "")
	not regex.match(digest_pattern, d)
	r := lib.result("infrastructure.artifact_digest", sprintf("the deployment references artifact %v without a sha256 digest", [object.get(deployment, "artifact_uri", "")]), "artifact.digest")
}

deny contains r if {
	count(deployment) > 0
	d := object.get(deployment, "artifact_digest", "")
	regex.match(digest_pattern, d)
	d != input.model.artifact.digest
	r := lib.result("infrastructure.artifact_digest", sprintf("the deployment pins artifact digest %s, the spec declares %s", [d, input.model.artifact.digest]), "artifact.digest")
}

limits := object.get(input.environment, "limits", {})

over_limit contains [what, v, limit] if {
	limit := limits.cpu
	v := deployment.resources.cpu
	v > limit
	what := "cpu"
}

over_limit contains [what, v, limit] if {
	limit := limits.memoryMiB
	v := deployment.resources.memory_mib
	v > limit
	what := "memory MiB"
}

over_limit contains [what, v, limit] if {
	limit := limits.replicas
	v := deployment.replicas.max
	v > limit
	what := "replicas"
}

over_limit contains [what, v, limit] if {
	limit := limits.replicas
	v := deployment.parallelism
	v > limit
	what := "parallelism"
}

# METADATA
# title: Resource requests within the environment's limits
# description: >-
#   The deployment's cpu, memory and replica (or parallelism) requests are
#   within the limits the environment sets.
# custom:
#   id: infrastructure.resource_limits
#   severity: deny
#   requires: [plan]
#   controls:
#     - {framework: EU AI Act, id: Annex IV 1(e)}
#     - {framework: NIST AI RMF, id: MANAGE 2.2}
#     - {framework: ISO/IEC 42001, id: A.4.5}
#     - {framework: ISO/IEC 42001, id: A.6.2.5}
deny contains r if {
	some [what, v, limit] in over_limit
	msg := sprintf("the deployment requests %v %s, environment %s allows %v", [v, what, input.environment.name, limit])
	r := lib.result("infrastructure.resource_limits", msg, "deployment")
}
