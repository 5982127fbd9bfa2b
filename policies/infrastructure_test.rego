package slipway.infrastructure_test

import data.slipway.fixtures_test as fx
import data.slipway.infrastructure

ids(set) := {r.id | some r in set}

test_passing_unit if {
	count(infrastructure.deny) == 0 with input as fx.unit
}

test_no_plan_no_findings if {
	doc := fx.with_patch([{"op": "replace", "path": "/plan", "value": null}])
	count(infrastructure.deny) == 0 with input as doc
}

test_delete_in_protected if {
	doc := fx.with_patch([{"op": "replace", "path": "/plan/resources/0/actions", "value": ["delete"]}])
	some r in infrastructure.deny with input as doc
	r.id == "infrastructure.no_destroy"
	r.field == "environments[1]"
	r.msg == "plan deletes module.deployment.terraform_data.deployment in protected environment production"
}

test_replace_in_protected if {
	doc := fx.with_patch([{"op": "replace", "path": "/plan/resources/0/actions", "value": ["delete", "create"]}])
	some r in infrastructure.deny with input as doc
	contains(r.msg, "plan replaces")
}

test_delete_in_unprotected_is_fine if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/plan/resources/0/actions", "value": ["delete"]},
		{"op": "replace", "path": "/environment", "value": fx.staging},
	])
	count(infrastructure.deny) == 0 with input as doc
}

test_artifact_without_digest if {
	doc := fx.with_patch([{"op": "replace", "path": "/plan/deployment/artifact_digest", "value": ""}])
	some r in infrastructure.deny with input as doc
	r.id == "infrastructure.artifact_digest"
	r.field == "artifact.digest"
}

test_artifact_other_digest if {
	doc := fx.with_patch([{"op": "replace", "path": "/plan/deployment/artifact_digest", "value": fx.digest_g}])
	ids(infrastructure.deny) == {"infrastructure.artifact_digest"} with input as doc
}

test_resource_limits if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/plan/deployment/resources", "value": {"cpu": 8, "memory_mib": 16384}},
		{"op": "replace", "path": "/plan/deployment/replicas/max", "value": 12},
	])
	msgs := {r.msg | some r in infrastructure.deny with input as doc}
	msgs == {
		"the deployment requests 8 cpu, environment production allows 4",
		"the deployment requests 16384 memory MiB, environment production allows 8192",
		"the deployment requests 12 replicas, environment production allows 10",
	}
}

test_streaming_parallelism_limit if {
	doc := fx.with_patch([
		{"op": "remove", "path": "/plan/deployment/replicas"},
		{"op": "add", "path": "/plan/deployment/parallelism", "value": 16},
	])
	ids(infrastructure.deny) == {"infrastructure.resource_limits"} with input as doc
}

test_no_limits_no_findings if {
	doc := fx.with_patch([
		{"op": "remove", "path": "/environment/limits"},
		{"op": "replace", "path": "/plan/deployment/resources", "value": {"cpu": 64, "memory_mib": 1000000}},
	])
	count(infrastructure.deny) == 0 with input as doc
}
