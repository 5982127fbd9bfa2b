package slipway.release_test

import data.slipway.fixtures_test as fx
import data.slipway.release

ids(set) := {r.id | some r in set}

test_passing_unit if {
	count(release.deny) == 0 with input as fx.unit
	count(release.warn) == 0 with input as fx.unit
}

test_first_environment_needs_nothing if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/environment", "value": fx.staging},
		{"op": "replace", "path": "/releases", "value": {}},
		{"op": "replace", "path": "/approvals", "value": []},
	])
	count(release.deny) == 0 with input as doc
	count(release.warn) == 0 with input as doc
}

test_not_passed_in_previous if {
	doc := fx.with_patch([{"op": "replace", "path": "/releases", "value": {}}])
	some r in release.deny with input as doc
	r.id == "release.promotion_order"
	r.msg == "version 1.4.0 has not passed in staging (no release recorded)"
}

test_older_version_passed if {
	doc := fx.with_patch([{"op": "replace", "path": "/releases/staging/version", "value": "1.3.0"}])
	some r in release.deny with input as doc
	r.msg == "version 1.4.0 has not passed in staging (last: version 1.3.0, decision pass)"
}

test_denied_in_previous if {
	doc := fx.with_patch([{"op": "replace", "path": "/releases/staging/decision", "value": "deny"}])
	some r in release.deny with input as doc
	r.msg == "version 1.4.0 has not passed in staging (it was denied there)"
}

test_previous_environment_skipped if {
	doc := fx.with_patch([{"op": "replace", "path": "/model/environments", "value": ["production"]}])
	some r in release.deny with input as doc
	r.field == "environments[0]"
	r.msg == "environment production comes after staging, which the model does not deploy to"
}

test_approvals_known_and_missing if {
	doc := fx.with_patch([{"op": "replace", "path": "/approvals/1/user", "value": "alice"}])
	some r in release.deny with input as doc
	r.id == "release.approvals"
	r.msg == "environment production needs 2 approval(s), 1 recorded"
}

test_changes_requested_do_not_count if {
	doc := fx.with_patch([{"op": "replace", "path": "/approvals/1/state", "value": "CHANGES_REQUESTED"}])
	ids(release.deny) == {"release.approvals"} with input as doc
	count(release.warn) == 0 with input as doc
}

test_no_approvals_yet if {
	doc := fx.with_patch([{"op": "replace", "path": "/approvals", "value": []}])
	ids(release.deny) == {"release.approvals"} with input as doc
}

test_approvals_unknown_warns if {
	doc := fx.with_patch([{"op": "replace", "path": "/approvals", "value": null}])
	count(release.deny) == 0 with input as doc
	some r in release.warn with input as doc
	r.id == "release.approvals_pending"
	r.msg == "environment production needs 2 approval(s); the reviews are not known here (slipway check --github counts them)"
}

test_approvals_unknown_release_denies if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/approvals", "value": null},
		{"op": "replace", "path": "/phase", "value": "release"},
	])
	count(release.warn) == 0 with input as doc
	some r in release.deny with input as doc
	r.id == "release.approvals"
	r.msg == "environment production needs 2 approval(s); the reviews are not known here (slipway check --github counts them)"
}

test_approvals_known_release if {
	doc := fx.with_patch([{"op": "replace", "path": "/phase", "value": "release"}])
	not "release.approvals" in ids(release.deny) with input as doc
}

test_approvals_unknown_release_none_needed if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/approvals", "value": null},
		{"op": "replace", "path": "/phase", "value": "release"},
		{"op": "replace", "path": "/environment", "value": fx.staging},
		{"op": "replace", "path": "/releases", "value": {}},
	])
	count(release.deny) == 0 with input as doc
}

test_approvals_unknown_none_needed if {
	doc := fx.with_patch([
		{"op": "replace", "path": "/approvals", "value": null},
		{"op": "replace", "path": "/environment", "value": fx.staging},
		{"op": "replace", "path": "/releases", "value": {}},
	])
	count(release.warn) == 0 with input as doc
}

test_code_owner_approved if {
	doc := fx.with_patch([{"op": "add", "path": "/code_owners", "value": [
		{"file": "models/credit-default/model.cue", "owners": ["@risk-ml"], "approved_by": ["@risk-ml"]},
	]}])
	not "release.code_owners" in ids(release.deny) with input as doc
}

test_code_owner_missing if {
	doc := fx.with_patch([{"op": "add", "path": "/code_owners", "value": [
		{"file": "models/credit-default/model.cue", "owners": ["@risk-ml", "@org/credit-team"], "approved_by": []},
		{"file": "models/credit-default/RUNBOOK.md", "owners": [], "approved_by": []},
	]}])
	some r in release.deny with input as doc
	r.id == "release.code_owners"
	r.msg == "models/credit-default/model.cue is owned by @risk-ml, @org/credit-team (CODEOWNERS), and none of them approved"
	count({r | some r in release.deny with input as doc; r.id == "release.code_owners"}) == 1
}

test_code_owners_unknown if {
	doc := fx.with_patch([{"op": "add", "path": "/code_owners", "value": null}])
	not "release.code_owners" in ids(release.deny) with input as doc
}

trust_changed := fx.with_patch([
	{"op": "replace", "path": "/trust_root/changed", "value": true},
	{"op": "replace", "path": "/trust_root/paths", "value": ["keys/attacker.pub", "waivers.cue"]},
])

test_trust_root_unchanged if {
	not "release.trust_changed" in ids(release.deny) with input as fx.unit
}

test_trust_root_unknown if {
	doc := fx.with_patch([{"op": "replace", "path": "/trust_root", "value": null}])
	not "release.trust_changed" in ids(release.deny) with input as doc
}

test_trust_root_changed_unapproved if {
	# Approvals from others (alice, bob) do not lift it.
	some r in release.deny with input as trust_changed
	r.id == "release.trust_changed"
	r.path == "signing.trustedKeys"
	r.msg == "the trust root changed (keys/attacker.pub, waivers.cue): an approval from a security owner (@acme/security, carol) is needed, and none is recorded"
}

test_trust_root_changed_reviews_unknown if {
	doc := json.patch(trust_changed, [{"op": "replace", "path": "/trust_root/approved_by", "value": []}])
	"release.trust_changed" in ids(release.deny) with input as doc
}

test_trust_root_changed_no_owners if {
	doc := json.patch(trust_changed, [{"op": "replace", "path": "/trust_root/owners", "value": []}])
	some r in release.deny with input as doc
	r.id == "release.trust_changed"
	r.msg == "the trust root changed (keys/attacker.pub, waivers.cue): no policy.securityOwners is set, so no approval can lift this"
}

test_trust_root_changed_approved_by_owner if {
	doc := json.patch(trust_changed, [{"op": "replace", "path": "/trust_root/approved_by", "value": ["carol"]}])
	not "release.trust_changed" in ids(release.deny) with input as doc
}

test_author_approval_not_counted if {
	doc := json.patch(fx.unit, [{"op": "add", "path": "/authors", "value": ["Alice", "dave"]}])
	msgs := {r.msg | some r in release.deny with input as doc}
	msgs == {"environment production needs 2 approval(s), 1 recorded; not counted: alice (authors of the change)"}
	warns := {r.msg | some r in release.warn with input as doc; r.id == "release.self_approval"}
	warns == {"the approval by alice is not counted: alice wrote the change (the pull request or one of its commits)"}
}

test_distinct_approvers_count if {
	doc := json.patch(fx.unit, [{"op": "add", "path": "/authors", "value": ["dave"]}])
	count(release.deny) == 0 with input as doc
	count({r | some r in release.warn with input as doc; r.id == "release.self_approval"}) == 0
}
