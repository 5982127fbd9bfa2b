package slipway.data_test

import data.slipway.data
import data.slipway.fixtures_test as fx

ids(set) := {r.id | some r in set}

test_passing_unit if {
	count(data.deny) == 0 with input as fx.unit
}

test_source_without_owner if {
	doc := fx.with_patch([{"op": "replace", "path": "/data_sources/applications/owner", "value": ""}])
	some r in data.deny with input as doc
	r.id == "data.source_metadata"
	r.path == "dataSources.applications.owner"
}

test_source_without_digest if {
	doc := fx.with_patch([{"op": "replace", "path": "/data_sources/applications-gold/version", "value": "v3"}])
	some r in data.deny with input as doc
	r.path == "dataSources.applications-gold.version"
}

test_md5_digest_accepted if {
	doc := fx.with_patch([{"op": "replace", "path": "/data_sources/applications/version", "value": "md5:0123456789abcdef0123456789abcdef.dir"}])
	count(data.deny) == 0 with input as doc
}

test_undeclared_source if {
	doc := fx.with_patch([{"op": "remove", "path": "/data_sources/applications"}])
	some r in data.deny with input as doc
	r.msg == "data source applications is not declared"
}

test_quality_violation if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/data/sources/applications/violations", "value": [{"check": "completeness", "column": "income", "message": "0.91 non-null, want >= 0.95"}]}])
	some r in data.deny with input as doc
	r.id == "data.quality"
	r.msg == "data source applications: completeness on income: 0.91 non-null, want >= 0.95"
	r.path == "dataSources.applications.quality"
}

test_quality_not_measured if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/data/sources", "value": {}}])
	some r in data.deny with input as doc
	r.path == "dataSources.applications.snapshot"
}

test_pii_feature if {
	doc := fx.with_patch([{"op": "add", "path": "/model/data/features/-", "value": "email"}])
	some r in data.deny with input as doc
	r.id == "data.pii_feature"
	r.field == "data.features[3]"
}

test_drift_over_threshold if {
	doc := fx.with_patch([{"op": "replace", "path": "/evidence/data/drift/features/income/psi", "value": 0.31}])
	some r in data.deny with input as doc
	r.id == "data.drift"
	r.field == "monitoring.drift.features[0]"
	r.msg == "feature income drifted: psi 0.31 over threshold 0.2"
}

test_drift_ks_metric if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/model/monitoring/drift", "value": {"features": ["income"], "metric": "ks", "threshold": 0.03}},
	])
	ids(data.deny) == {"data.drift"} with input as doc
}

test_drift_not_computed if {
	doc := fx.with_patch([{"op": "remove", "path": "/evidence/data/drift"}])
	ids(data.deny) == {"data.drift"} with input as doc
}

test_drift_not_checked_without_snapshots if {
	doc := fx.with_patch([
		{"op": "remove", "path": "/evidence/data/drift"},
		{"op": "remove", "path": "/model/data/reference"},
	])
	count(data.deny) == 0 with input as doc
}

test_drift_platform_default if {
	doc := fx.with_patch([
		{"op": "remove", "path": "/model/monitoring/drift/threshold"},
		{"op": "add", "path": "/platform/policy/driftThreshold", "value": 0.06},
	])
	some r in data.deny with input as doc
	r.msg == "feature loan_amount drifted: psi 0.08 over threshold 0.06"
}

test_min_rows if {
	doc := fx.with_patch([{"op": "add", "path": "/data_sources/applications/quality/minRows", "value": 1000}])
	some r in data.deny with input as doc
	r.id == "data.min_rows"
	r.msg == "data source applications: snapshot has 500 rows, under quality.minRows 1000"
	doc2 := fx.with_patch([{"op": "add", "path": "/data_sources/applications/quality/minRows", "value": 500}])
	not "data.min_rows" in {x.id | some x in data.deny with input as doc2}
}

# The gold set under its minimum is too thin to judge the model on:
# insufficient evidence (the engine denies it in protected environments
# and warns elsewhere); the training set under its minimum above denies.
test_min_rows_gold_insufficient if {
	doc := fx.with_patch([
		{"op": "add", "path": "/data_sources/applications-gold/quality", "value": {"minRows": 2500, "minRowsPer": {"sex": 1000}}},
		{"op": "add", "path": "/evidence/data/sources/applications-gold", "value": {"snapshot": "data/gold.csv", "rows": 2000, "rows_per": {"sex": {"f": 980, "m": 1020}}, "violations": []}},
	])
	got := {[r.msg, r.path, object.get(r, "outcome", "deny")] | some r in data.deny with input as doc; r.id == "data.min_rows"}
	got == {
		["data source applications-gold: snapshot has 2000 rows, under quality.minRows 2500: too few gold rows to judge the model", "dataSources.applications-gold.quality.minRows", "insufficient_evidence"],
		["data source applications-gold: sex=f has 980 rows, under quality.minRowsPer.sex 1000: too few gold rows to judge the model", "dataSources.applications-gold.quality.minRowsPer.sex", "insufficient_evidence"],
	}

	# A training row count under its minimum keeps denying outright.
	train := fx.with_patch([{"op": "add", "path": "/data_sources/applications/quality/minRows", "value": 1000}])
	some t in data.deny with input as train
	t.id == "data.min_rows"
	not t.outcome

	# A source the model both trains and is judged on is a training source.
	both := json.patch(doc, [{"op": "add", "path": "/model/training/data/-", "value": "applications-gold"}])
	outcomes := {object.get(r, "outcome", "deny") | some r in data.deny with input as both; r.id == "data.min_rows"}
	outcomes == {"deny"}
}

test_training_source_needs_snapshot if {
	doc := fx.with_patch([{"op": "remove", "path": "/data_sources/applications/snapshot"}])
	some r in data.deny with input as doc
	r.id == "data.training_snapshot"
}

test_min_rows_per_value if {
	doc := fx.with_patch([
		{"op": "add", "path": "/data_sources/applications/quality/minRowsPer", "value": {"defaulted": 100, "sex": 50}},
		{"op": "add", "path": "/evidence/data/sources/applications/rows_per", "value": {"defaulted": {"0": 430, "1": 70}, "sex": {"F": 260, "M": 240}}},
	])
	msgs := {r.msg | some r in data.deny with input as doc; r.id == "data.min_rows"}
	msgs == {"data source applications: defaulted=1 has 70 rows, under quality.minRowsPer.defaulted 100"}
	some r in data.deny with input as doc
	r.path == "dataSources.applications.quality.minRowsPer.defaulted"
	ok := json.patch(doc, [{"op": "replace", "path": "/data_sources/applications/quality/minRowsPer/defaulted", "value": 70}])
	not "data.min_rows" in {x.id | some x in data.deny with input as ok}
}

test_min_rows_per_not_counted if {
	doc := fx.with_patch([{"op": "add", "path": "/data_sources/applications/quality/minRowsPer", "value": {"sex": 50}}])
	msgs := {r.msg | some r in data.deny with input as doc; r.id == "data.min_rows"}
	msgs == {"data source applications: the rows per value of sex were not counted"}
}

test_training_snapshot_digest_differs if {
	doc := fx.with_patch([{"op": "add", "path": "/evidence/data/sources/applications/sha256", "value": "sha256:1d5b3f0e8c7a9b2d4f6e8a0c2b4d6f8e0a2c4e6b8d0f2a4c6e8b0d2f4a6c8e0b"}])
	some r in data.deny with input as doc
	r.id == "data.training_snapshot"
	startswith(r.msg, "training data source applications: snapshot data/applications.csv has digest sha256:1d5b")
	same := fx.with_patch([{"op": "add", "path": "/evidence/data/sources/applications/sha256", "value": fx.unit.data_sources.applications.version}])
	not "data.training_snapshot" in {x.id | some x in data.deny with input as same}
}
