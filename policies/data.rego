# METADATA
# title: Data
# description: >-
#   The data a model is trained and evaluated on is owned, classified,
#   versioned, meets its quality expectations, keeps personal data out of the
#   features and has not drifted.
package slipway.data

import data.slipway.defaults
import data.slipway.lib

source_path(name, field) := sprintf("dataSources.%s.%s", [name, field])

digest_pattern := `^(sha256:[0-9a-f]{64}|md5:[0-9a-f]{32}(\.dir)?)$`

metadata_problems contains [name, "owner", "has no owner"] if {
	some name in lib.data_source_names
	ds := input.data_sources[name]
	not lib.nonempty(object.get(ds, "owner", ""))
}

metadata_problems contains [name, "classification", "has no classification"] if {
	some name in lib.data_source_names
	ds := input.data_sources[name]
	not lib.nonempty(object.get(ds, "classification", ""))
}

metadata_problems contains [name, "version", "has no version digest"] if {
	some name in lib.data_source_names
	ds := input.data_sources[name]
	not regex.match(digest_pattern, object.get(ds, "version", ""))
}

metadata_problems contains [name, "name", "is not declared"] if {
	some name in lib.data_source_names
	not input.data_sources[name]
}

# METADATA
# title: Data sources owned, classified and versioned
# description: >-
#   Every data source the model trains or is evaluated on has an owner, a
#   classification and a version digest, so its provenance can be traced.
# custom:
#   id: data.source_metadata
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(d)}
#     - {framework: NIST AI RMF, id: MAP 2.3}
#     - {framework: ISO/IEC 42001, id: A.7.2}
#     - {framework: ISO/IEC 42001, id: A.7.5}
deny contains r if {
	some [name, field, what] in metadata_problems
	r := lib.spec_result("data.source_metadata", sprintf("data source %s %s", [name, what]), source_path(name, field))
}

# METADATA
# title: Data quality expectations met
# description: >-
#   The committed snapshot of every data source the model names meets the
#   source's quality expectations (completeness, unique keys, validity,
#   freshness, duplicate rows). A source that declares expectations and a
#   snapshot but was not measured fails.
# custom:
#   id: data.quality
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(d)}
#     - {framework: NIST AI RMF, id: MAP 2.3}
#     - {framework: NIST AI RMF, id: MEASURE 2.1}
#     - {framework: ISO/IEC 42001, id: A.7.4}
deny contains r if {
	some name in lib.data_source_names
	some v in object.get(input, ["evidence", "data", "sources", name, "violations"], [])
	col := object.get(v, "column", "")
	msg := sprintf("data source %s: %s%s: %s", [name, object.get(v, "check", "quality"), column_text(col), object.get(v, "message", "")])
	r := lib.spec_result("data.quality", msg, source_path(name, "quality"))
}

deny contains r if {
	some name in lib.data_source_names
	ds := input.data_sources[name]
	ds.quality
	lib.nonempty(object.get(ds, "snapshot", ""))
	not input.evidence.data.sources[name]
	msg := sprintf("data source %s declares quality expectations but its snapshot %s was not measured", [name, ds.snapshot])
	r := lib.spec_result("data.quality", msg, source_path(name, "snapshot"))
}

column_text(col) := sprintf(" on %s", [col]) if lib.nonempty(col)

column_text(col) := "" if not lib.nonempty(col)

pii := {f | some name in lib.data_source_names; some f in object.get(input.data_sources, [name, "pii"], [])}

# METADATA
# title: No personal data used as a feature
# description: >-
#   A field a data source marks as PII is not among the model's features
#   unless a waiver says why it must be.
# custom:
#   id: data.pii_feature
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(d)}
#     - {framework: NIST AI RMF, id: MEASURE 2.10}
#     - {framework: ISO/IEC 42001, id: A.7.2}
#     - {framework: ISO/IEC 42001, id: A.5.4}
deny contains r if {
	some i, f in object.get(input.model, ["data", "features"], [])
	f in pii
	r := lib.result("data.pii_feature", sprintf("feature %s is personal data (PII) in a data source it reads", [f]), sprintf("data.features[%d]", [i]))
}

drift := object.get(input.model, ["monitoring", "drift"], {})

drift_metric := object.get(drift, "metric", defaults.model.monitoring.drift.metric)

drift_threshold := t if {
	t := drift.threshold
	is_number(t)
} else := lib.policy.driftThreshold

drift_checked if {
	lib.nonempty(object.get(input.model, ["data", "reference"], ""))
	lib.nonempty(object.get(input.model, ["data", "current"], ""))
}

# METADATA
# title: Feature drift within threshold
# description: >-
#   When the spec names a reference and a current snapshot, every monitored
#   feature's drift (PSI or KS statistic, as monitoring.drift.metric says) is
#   within monitoring.drift.threshold, or the platform's driftThreshold.
# custom:
#   id: data.drift
#   severity: deny
#   controls:
#     - {framework: NIST AI RMF, id: MEASURE 2.5}
#     - {framework: EU AI Act, id: Annex IV 3}
#     - {framework: ISO/IEC 42001, id: A.6.2.6}
#     - {framework: ISO/IEC 42001, id: A.7.4}
deny contains r if {
	drift_checked
	some i, f in object.get(drift, "features", [])
	v := object.get(input, ["evidence", "data", "drift", "features", f, drift_metric], null)
	is_number(v)
	v > drift_threshold
	msg := sprintf("feature %s drifted: %s %v over threshold %v", [f, drift_metric, lib.num(v), drift_threshold])
	r := lib.result("data.drift", msg, sprintf("monitoring.drift.features[%d]", [i]))
}

deny contains r if {
	drift_checked
	some i, f in object.get(drift, "features", [])
	not is_number(object.get(input, ["evidence", "data", "drift", "features", f, drift_metric], null))
	msg := sprintf("drift (%s) of feature %s was not computed", [drift_metric, f])
	r := lib.result("data.drift", msg, sprintf("monitoring.drift.features[%d]", [i]))
}

# METADATA
# title: Snapshots have enough rows
# description: >-
#   The committed snapshot of every data source the model names (training
#   and gold) has at least the source's quality.minRows rows, and each value
#   of a column in quality.minRowsPer (the classes of a label, the groups of
#   a sensitive attribute) at least its minimum. A gold set under a minimum
#   is too thin to judge the model on: insufficient evidence, which denies
#   in protected environments and warns elsewhere (as a group under
#   fairness.minGroupSize does). A training set under a minimum denies: its
#   row count is measured exactly, and a model trained on less data than
#   the platform requires is a defect, not thin evidence about the model.
# custom:
#   id: data.min_rows
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(d)}
#     - {framework: NIST AI RMF, id: MEASURE 2.1}
#     - {framework: ISO/IEC 42001, id: A.7.4}
deny contains r if {
	some name in lib.data_source_names
	want := input.data_sources[name].quality.minRows
	rows := object.get(input, ["evidence", "data", "sources", name, "rows"], 0)
	rows < want
	msg := sprintf("data source %s: snapshot has %v rows, under quality.minRows %v", [name, rows, want])
	r := min_rows_result(name, msg, source_path(name, "quality.minRows"))
}

deny contains r if {
	some name in lib.data_source_names
	some col, want in object.get(input.data_sources[name], ["quality", "minRowsPer"], {})
	some value, n in object.get(input, ["evidence", "data", "sources", name, "rows_per", col], {})
	n < want
	msg := sprintf("data source %s: %s=%s has %v rows, under quality.minRowsPer.%s %v", [name, col, value, n, col, want])
	r := min_rows_result(name, msg, source_path(name, sprintf("quality.minRowsPer.%s", [col])))
}

# min_rows_result is a data.min_rows finding about source name: insufficient
# evidence when name is only the gold set, a denial when the model trains
# on it.
min_rows_result(name, msg, path) := object.union(lib.spec_result("data.min_rows", sprintf("%s: too few gold rows to judge the model", [msg]), path), {"outcome": "insufficient_evidence"}) if {
	name == input.model.evaluation.data
	not name in object.get(input.model, ["training", "data"], [])
} else := lib.spec_result("data.min_rows", msg, path)

# A snapshot measured without the counts a minimum needs fails.
deny contains r if {
	some name in lib.data_source_names
	some col, _ in object.get(input.data_sources[name], ["quality", "minRowsPer"], {})
	is_object(object.get(input, ["evidence", "data", "sources", name], null))
	not is_object(object.get(input, ["evidence", "data", "sources", name, "rows_per", col], null))
	msg := sprintf("data source %s: the rows per value of %s were not counted", [name, col])
	r := lib.spec_result("data.min_rows", msg, source_path(name, sprintf("quality.minRowsPer.%s", [col])))
}

# METADATA
# title: Training data has a snapshot
# description: >-
#   Every training data source names a committed snapshot whose digest is
#   the source's version, so the data trained on is the data declared and
#   its keys can be compared with the gold set's.
# custom:
#   id: data.training_snapshot
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(d)}
#     - {framework: NIST AI RMF, id: MAP 2.3}
#     - {framework: ISO/IEC 42001, id: A.7.5}
deny contains r if {
	some name in object.get(input.model, ["training", "data"], [])
	ds := input.data_sources[name]
	not lib.nonempty(object.get(ds, "snapshot", ""))
	msg := sprintf("training data source %s names no snapshot: its version %v cannot be checked", [name, object.get(ds, "version", null)])
	r := lib.spec_result("data.training_snapshot", msg, source_path(name, "version"))
}

deny contains r if {
	some name in object.get(input.model, ["training", "data"], [])
	ds := input.data_sources[name]
	startswith(object.get(ds, "version", ""), "sha256:")
	got := object.get(input, ["evidence", "data", "sources", name, "sha256"], "")
	lib.nonempty(got)
	got != ds.version
	msg := sprintf("training data source %s: snapshot %s has digest %s, the source declares version %s", [name, object.get(ds, "snapshot", null), got, ds.version])
	r := lib.spec_result("data.training_snapshot", msg, source_path(name, "version"))
}
