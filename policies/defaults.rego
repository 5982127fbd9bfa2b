# Code generated from schemas/platform.cue by go test ./internal/policy -run TestDefaultsRego -update; DO NOT EDIT.

# METADATA
# title: Schema defaults
# description: >-
#   The defaults of schemas/platform.cue, the one place they are written:
#   policy are those of platform.policy, model those of a model's fields,
#   each at its path. Rules read platform.policy through lib.policy, which
#   fills in these defaults.
package slipway.defaults

policy := {
	"baselineTolerance": 0.01,
	"driftThreshold": 0.2,
	"fairness": {
		"demographic_parity_difference": {
			"max": 0.1,
		},
		"disparate_impact": {
			"min": 0.8,
		},
		"equalized_odds_difference": {
			"max": 0.1,
		},
	},
	"imbalancedPositiveRate": 0.2,
	"maxPredictionLogDays": 400,
	"minGoldCoverage": 1,
	"minGroupSize": 30,
	"riskOwners": [],
	"rollbackRehearsalDays": 90,
	"runbookMinWords": 20,
	"runbookSections": [
		"Overview",
		"Alerts",
		"Rollback",
		"Contacts",
	],
	"securityOwners": [],
	"timeout": "10s",
	"trustRepositoryControls": false,
}

model := {
	"data": {
		"features": [],
	},
	"fairness": {
		"intersectional": false,
	},
	"handover": {
		"alerts": [],
		"errorTypes": [],
		"logging": {
			"sampleRate": 1,
		},
		"slos": [],
	},
	"instructions": {
		"limitations": [],
	},
	"intendedUse": {
		"outOfScope": [],
	},
	"monitoring": {
		"drift": {
			"features": [],
			"metric": "psi",
		},
		"minRows": 100,
		"slack": "1h",
	},
	"oversight": {
		"measures": [],
		"overrideBy": [],
	},
	"purpose": {
		"misuse": [],
		"users": [],
	},
	"riskRegister": {
		"risks": [],
	},
	"tests": {
		"requiredSuites": [],
	},
}
