package slipway.infrastructure_test

import data.slipway.fixtures_test as fx
import data.slipway.infrastructure

ids(set) := {r.id | some r in set}

test_passing_unit if {
	count(infrastructure.deny) == 0 with input as fx.unit
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

orphan_plan := {
	"stack": "production/credit-default", "environment": "production", "model": "credit-default", "orphan": true,
	"changes": {"create": 0, "update": 0, "delete": 2, "replace": 1},
	"resources": [], "deployment": null,
}

test_orphan_destroy_in_protected if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/kind", "value": "orphan"},
		{"op": "replace", "path": "/plan", "value": orphan_plan},
	])
	[r] := [r | some r in infrastructure.deny with input as doc]
	r == {
		"id": "infrastructure.no_destroy", "field": "environments",
		"msg": "model credit-default no longer deploys to production: the plan deletes 3 resource(s) in this protected environment",
	}
}

test_orphan_of_removed_model_points_at_environment if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/kind", "value": "orphan"},
		{"op": "replace", "path": "/plan", "value": orphan_plan},
		{"op": "replace", "path": "/model", "value": {"name": "credit-default", "version": ""}},
	])
	some r in infrastructure.deny with input as doc
	r.path == "environments.production.protected"
}

test_orphan_in_unprotected_is_fine if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/kind", "value": "orphan"},
		{"op": "replace", "path": "/plan", "value": orphan_plan},
		{"op": "replace", "path": "/environment", "value": fx.staging},
	])
	count(infrastructure.deny) == 0 with input as doc
}

test_orphan_without_destroy_is_fine if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/kind", "value": "orphan"},
		{"op": "replace", "path": "/plan", "value": object.union(orphan_plan, {"changes": {"create": 0, "update": 1, "delete": 0, "replace": 0}})},
	])
	count(infrastructure.deny) == 0 with input as doc
}

test_shared_destroy_in_protected if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/kind", "value": "shared"},
		{"op": "replace", "path": "/plan", "value": object.union(orphan_plan, {"stack": "production/_shared", "model": ""})},
	])
	[r] := [r | some r in infrastructure.deny with input as doc]
	r == {
		"id": "infrastructure.no_destroy", "path": "environments.production.protected",
		"msg": "plan of production/_shared deletes or replaces 3 shared resource(s) in protected environment production",
	}
}

test_model_rule_ignores_other_kinds if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/kind", "value": "shared"},
		{"op": "replace", "path": "/plan/resources/0/actions", "value": ["delete"]},
	])
	count(infrastructure.deny) == 0 with input as doc
}

test_plan_missing if {
	doc := fx.with_patch([{"op": "replace", "path": "/plan", "value": null}])
	[r] := [r | some r in infrastructure.deny with input as doc]
	r == {
		"id": "infrastructure.plan_missing", "field": "deployment",
		"msg": "stack production/credit-default has no plan summary: its infrastructure was not judged",
	}
}

test_no_plan_requested_no_findings if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/plan", "value": null},
		{"op": "replace", "path": "/plan_expected", "value": false},
	])
	count(infrastructure.deny) == 0 with input as doc
}
