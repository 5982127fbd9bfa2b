# Shared test inputs: a unit that passes every built-in rule, which each
# test breaks in one place.
package slipway.fixtures_test

digest_a := "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

digest_g := "sha256:1111111111111111111111111111111111111111111111111111111111111111"

model := {
	"name": "credit-default",
	"version": "1.4.0",
	"owner": "risk-ml@example.com",
	"intendedUse": {"summary": "Scores credit applications for default risk", "affectsPeople": true},
	"task": "binary-classification",
	"artifact": {"uri": "s3://models/credit-default/1.4.0/model.onnx", "digest": digest_a, "format": "onnx"},
	"training": {"data": ["applications"], "code": {"repo": "github.com/acme/credit", "commit": "0123456789012345678901234567890123456789"}},
	"evaluation": {
		"data": "applications-gold",
		"predictions": "models/credit-default/predictions.csv",
		"columns": {"label": "defaulted", "score": "score"},
		"threshold": 0.5,
		"metrics": {"roc_auc": {"min": 0.75}, "recall": {"min": 0.6}, "precision": {"min": 0.5}},
		"baseline": {"version": "1.3.0", "metrics": {"roc_auc": 0.78, "brier": 0.12}, "tolerance": 0.01},
	},
	"fairness": {
		"sensitive": ["sex", "age_band"],
		"intersectional": false,
		"minGroupSize": 30,
		"thresholds": {"demographic_parity_difference": {"max": 0.1}, "equal_opportunity_difference": {"max": 0.1}},
	},
	"tests": {"reports": ["models/credit-default/junit.xml"], "requiredSuites": ["unit", "integration"]},
	"data": {
		"reference": "data/reference.csv",
		"current": "data/current.csv",
		"features": ["income", "loan_amount", "age_band"],
	},
	"deployment": {"template": "online-small", "parameters": {}, "resolved": {"name": "online-small", "kind": "online", "health": {
		"readiness": {"path": "/ready", "periodSeconds": 10, "failureThreshold": 3},
		"liveness": {"command": ["/bin/healthcheck"], "periodSeconds": 20, "failureThreshold": 3},
	}}},
	"monitoring": {"schedule": "@daily", "drift": {"features": ["income", "loan_amount"], "metric": "psi", "threshold": 0.2}},
	"handover": {
		"runbook": "models/credit-default/RUNBOOK.md",
		"onCall": {"team": "risk-ops", "rotation": "risk-ops-primary"},
		"supportPlan": {"tier": "24x7", "contact": "risk-ops@example.com", "until": "2027-12-31"},
		"slos": [{"name": "availability", "objective": 0.999, "window": "30d", "metric": "scoring_requests_total"}],
		"alerts": [
			{"name": "ErrorRate", "condition": "rate(scoring_errors_total[5m]) / rate(scoring_requests_total[5m]) > 0.001", "severity": "page"},
			{"name": "Drift", "condition": "slipway_drift_psi > 0.2", "severity": "ticket"},
		],
		"logging": {"predictions": true, "retentionDays": 90, "sampleRate": 1},
		"errorTypes": [{"code": "E_TIMEOUT", "description": "feature store timeout", "action": "retry then fall back"}],
		"rollback": {"strategy": "previous-version", "tested": true, "testedOn": "2026-11-01"},
		"acceptance": {"team": "risk-ops", "by": "ops-lead@example.com", "date": "2026-11-10"},
	},
	"environments": ["staging", "production"],
	"purpose": {
		"owner": "risk-ml@example.com",
		"intended": "Scores consumer credit applications for underwriters",
		"misuse": ["declining an application on the score alone"],
	},
	"oversight": {
		"owner": "head-of-credit@example.com",
		"measures": ["every application above the threshold is reviewed by an underwriter"],
		"overrideBy": ["senior underwriter"],
		"referralRate": 0.18,
	},
	"instructions": {
		"owner": "risk-ml@example.com",
		"limitations": ["not validated for business lending"],
		"inputs": "the application form and the bureau record, as of the decision date",
	},
	"riskRegister": {
		"owner": "model-risk@example.com",
		"risks": [{
			"id": "R1",
			"description": "approval rates differ between age bands",
			"likelihood": "possible",
			"severity": "major",
			"mitigation": {"description": "parity bounds are checked on every release", "suites": ["unit"]},
		}],
		"acceptance": {"role": "Chief Risk Officer", "by": "cro@example.com", "date": "2026-11-20"},
	},
}

staging := {"name": "staging", "target": "local", "state": {"backend": "local"}, "approvals": 0, "protected": false}

production := {
	"name": "production", "target": "local", "state": {"backend": "local"}, "approvals": 2,
	"after": "staging", "protected": true, "limits": {"cpu": 4, "memoryMiB": 8192, "replicas": 10},
}

# platform sets no policy: every rule must judge it with the schema's
# defaults (data.slipway.defaults), as lib.policy fills them in, so that a
# rule that retyped a default, or read a field lib.policy does not fill,
# fails these tests.
platform := {"name": "credit-risk", "policy": {}}

data_sources := {
	"applications": {
		"name": "applications", "owner": "data@example.com", "kind": "table",
		"classification": "confidential", "pii": ["name", "email"], "version": digest_g,
		"quality": {"completeness": {"*": 0.95}}, "snapshot": "data/applications.csv",
	},
	"applications-gold": {
		"name": "applications-gold", "owner": "data@example.com", "kind": "files",
		"classification": "confidential", "pii": [], "version": digest_g,
	},
}

evidence := {
	"model": "credit-default", "version": "1.4.0", "task": "binary-classification",
	"evaluation": {
		"rows": 2000,
		"overall": {"roc_auc": 0.81, "recall": 0.66, "precision": 0.58, "f1": 0.62, "brier": 0.11, "accuracy": 0.9, "positive_rate": 0.12},
		"groups": {
			"sex": {"f": {"count": 980}, "m": {"count": 1020}},
			"age_band": {"18-30": {"count": 600}, "30-60": {"count": 1000}, "60+": {"count": 400}},
		},
		"fairness": {
			"sex": {"demographic_parity_difference": 0.03, "equal_opportunity_difference": 0.04, "equalized_odds_difference": 0.05, "disparate_impact": 0.92},
			"age_band": {"demographic_parity_difference": 0.06, "equal_opportunity_difference": 0.05, "equalized_odds_difference": 0.07, "disparate_impact": 0.85},
		},
		"excluded_groups": [],
		"ci": {
			"fairness_method": "test intervals",
			"overall": {"roc_auc": [0.79, 0.83], "recall": [0.62, 0.7], "precision": [0.54, 0.62]},
			"fairness": {
				"sex": {"demographic_parity_difference": [0.01, 0.05], "equal_opportunity_difference": [0.02, 0.07], "equalized_odds_difference": [0.03, 0.08], "disparate_impact": [0.85, 0.98]},
				"age_band": {"demographic_parity_difference": [0.03, 0.09], "equal_opportunity_difference": [0.02, 0.08], "equalized_odds_difference": [0.04, 0.095], "disparate_impact": [0.81, 0.9]},
			},
		},
	},
	"baseline": {"predictions": "models/credit-default/champion.csv", "sha256": digest_g, "overall": {"roc_auc": 0.79, "recall": 0.64, "precision": 0.57}},
	"gold": {"data_source": "applications-gold", "declared_version": digest_g, "snapshot": "data/gold.csv", "snapshot_sha256": digest_g},
	"tests": {
		"reports": [{"path": "models/credit-default/junit.xml", "sha256": digest_g}],
		"suites": {
			"unit": {"tests": 10, "failures": 0, "errors": 0, "skipped": 0, "passed": true},
			"integration": {"tests": 4, "failures": 0, "errors": 0, "skipped": 0, "passed": true},
		},
		"total": {"tests": 14, "failures": 0, "errors": 0, "skipped": 0},
	},
	"data": {
		"sources": {"applications": {"snapshot": "data/applications.csv", "rows": 500, "violations": []}},
		"drift": {"reference": "data/reference.csv", "current": "data/current.csv", "features": {
			"income": {"psi": 0.05, "ks": 0.04},
			"loan_amount": {"psi": 0.08, "ks": 0.06},
		}},
	},
	"runbook": {
		"path": "models/credit-default/RUNBOOK.md", "exists": true,
		"sections": ["Overview", "Alerts", "Rollback", "Contacts", "Escalation"],
		"placeholders": 0,
		"content": [
			{"title": "Overview", "words": 40, "placeholders": 0},
			{"title": "Alerts", "words": 60, "placeholders": 0},
			{"title": "Rollback", "words": 35, "placeholders": 0},
			{"title": "Contacts", "words": 21, "placeholders": 0},
			{"title": "Escalation", "words": 3, "placeholders": 0},
		],
		"error_codes": {"E_TIMEOUT": {"named": true, "in_diagnosis": true}},
		"names_rollback_command": true,
	},
	"inputs": [],
	"problems": [],
}

plan := {
	"stack": "production/credit-default", "environment": "production", "model": "credit-default",
	"changes": {"create": 1, "update": 0, "delete": 0, "replace": 0},
	"resources": [{"address": "module.deployment.terraform_data.deployment", "type": "terraform_data", "actions": ["create"]}],
	"deployment": {
		"kind": "online", "model": "credit-default", "model_version": "1.4.0", "environment": "production",
		"artifact_uri": "s3://models/credit-default/1.4.0/model.onnx", "artifact_digest": digest_a,
		"resources": {"cpu": 1, "memory_mib": 2048}, "replicas": {"min": 2, "max": 6},
	},
}

# unit is a production unit that passes every built-in rule.
unit := {
	"phase": "check",
	"kind": "model",
	"plan_expected": true,
	"platform": platform,
	"model": model,
	"environment": production,
	"environments": {"staging": staging, "production": production},
	"data_sources": data_sources,
	"evidence": evidence,
	"plan": plan,
	"changed_files": ["models/credit-default/model.cue"],
	"approvals": [
		{"user": "alice", "state": "APPROVED", "submitted_at": "2026-11-20T10:00:00Z"},
		{"user": "bob", "state": "APPROVED", "submitted_at": "2026-11-20T11:00:00Z"},
	],
	"authors": ["carol"],
	"code_owners": [{"file": "models/credit-default/model.cue", "owners": ["@alice"], "approved_by": ["alice"]}],
	"trust_root": {"changed": false, "paths": [], "owners": ["@acme/security", "carol"], "approved_by": null},
	"waivers": [],
	"releases": {"staging": {"version": "1.4.0", "decision": "pass", "verified": true}},
	"now": "2026-11-23T10:00:00Z",
	"placeholders": [],
	"alerts": [
		{"name": "ErrorRate", "metrics": ["scoring_errors_total", "scoring_requests_total"], "compares": true},
		{"name": "Drift", "metrics": ["slipway_drift_psi"], "compares": true},
	],
	"rollback_rehearsals": [rehearsal],
	"acceptance": {
		"team": "risk-ops", "members": ["bob", "dave"],
		"by": {"user": "bob", "state": "APPROVED", "submitted_at": "2026-11-20T11:00:00Z", "review_id": 77, "commit": "0123456789abcdef0123456789abcdef01234567"},
	},
}

# rehearsal is a verified rollback record that handover.rollback_tested
# counts: successful, the model's strategy, staging, 22 days old.
rehearsal := {
	"environment": "staging", "protected": false, "strategy": "previous-version", "outcome": "succeeded",
	"from": "1.4.0", "to": "1.3.0", "recorded_at": "2026-11-01T09:00:00Z",
	"record": "releases/staging/credit-default/rollback/20261101T090000Z-3.intoto.json",
}

# with_patch returns unit with the JSON patch operations applied.
with_patch(ops) := json.patch(unit, ops)
