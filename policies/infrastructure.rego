# METADATA
# title: Infrastructure
# description: >-
#   Judges the Terraform plan of the unit's stack (input.plan): nothing is
#   destroyed in a protected environment, artifacts are pinned by digest and
#   resource requests fit the environment's limits. The rules apply only when
#   a plan was made (not under --no-plan).
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
#   resource; such a change needs an explicit, approved waiver.
# custom:
#   id: infrastructure.no_destroy
#   severity: deny
#   requires: [plan]
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(f)}
#     - {framework: EU AI Act, id: Annex IV 6}
#     - {framework: NIST AI RMF, id: GOVERN 1.4}
#     - {framework: NIST AI RMF, id: MANAGE 2.4}
#     - {framework: ISO/IEC 42001, id: A.6.2.5}
deny contains r if {
	lib.protected
	some [address, verb] in destroys
	msg := sprintf("plan %s %s in protected environment %s", [verb, address, input.environment.name])
	r := lib.result("infrastructure.no_destroy", msg, lib.environment_field)
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
#     - {framework: EU AI Act, id: Annex IV 2(c)}
#     - {framework: NIST AI RMF, id: MANAGE 2.2}
#     - {framework: ISO/IEC 42001, id: A.4.5}
#     - {framework: ISO/IEC 42001, id: A.6.2.5}
deny contains r if {
	some [what, v, limit] in over_limit
	msg := sprintf("the deployment requests %v %s, environment %s allows %v", [v, what, input.environment.name, limit])
	r := lib.result("infrastructure.resource_limits", msg, "deployment")
}
