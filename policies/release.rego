# METADATA
# title: Release
# description: >-
#   Promotion order and approvals. A model version reaches an environment
#   only after it passed in the environment named by `after`, and with the
#   approvals the environment requires.
package slipway.release

import data.slipway.lib

after := input.environment.after

# approvals_known says whether the reviews are known: a check run with
# --github, or a release. A local check does not know them (null).
approvals_known if is_array(input.approvals)

# authors wrote the change: the pull request's author and its commits'
# authors (GitHub logins, compared without case). Their approvals do not
# count: nobody approves their own change.
authors := {lower(a) | some a in input.authors}

all_approvers := {a.user | some a in input.approvals; a.state == "APPROVED"}

approvers := {u | some u in all_approvers; not lower(u) in authors}

not_counted := all_approvers - approvers

not_counted_msg := sprintf("; not counted: %s (authors of the change)", [concat(", ", sort(not_counted))]) if {
	count(not_counted) > 0
} else := ""

required_approvals := object.get(input.environment, "approvals", 0)

# METADATA
# title: Promoted only after passing the previous environment
# description: >-
#   In an environment with `after`, the same model version passed in that
#   environment first: the release ledger (or, during a check, the check of
#   that environment) records a pass for this version.
# custom:
#   id: release.promotion_order
#   severity: deny
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: EU AI Act, id: Annex IV 6}
#     - {framework: NIST AI RMF, id: GOVERN 1.4}
#     - {framework: NIST AI RMF, id: MEASURE 2.3}
#     - {framework: ISO/IEC 42001, id: A.6.2.5}
deny contains r if {
	lib.nonempty(after)
	not after in input.model.environments
	msg := sprintf("environment %s comes after %s, which the model does not deploy to", [input.environment.name, after])
	r := lib.result("release.promotion_order", msg, lib.environment_field)
}

deny contains r if {
	lib.nonempty(after)
	after in input.model.environments
	rel := object.get(input, ["releases", after], {})
	not passed(rel)
	msg := sprintf("version %s has not passed in %s (%s)", [input.model.version, after, release_state(rel)])
	r := lib.result("release.promotion_order", msg, "version")
}

passed(rel) if {
	rel.version == input.model.version
	rel.decision == "pass"
}

release_state(rel) := "no release recorded" if count(rel) == 0

release_state(rel) := "it was denied there" if {
	rel.version == input.model.version
	rel.decision == "deny"
}

release_state(rel) := sprintf("last: version %v, decision %v", [object.get(rel, "version", null), object.get(rel, "decision", null)]) if {
	count(rel) > 0
	not rel.version == input.model.version
}

# METADATA
# title: Required approvals present
# description: >-
#   When the reviews are known (slipway check --github, or a release), the
#   number of distinct people who approved, other than the pull request's
#   author and its commits' authors, is at least the environment's
#   `approvals`.
#   A release fails closed: there, reviews that are not known count as
#   none.
# custom:
#   id: release.approvals
#   severity: deny
#   requires: [approvals]
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: NIST AI RMF, id: GOVERN 1.4}
#     - {framework: NIST AI RMF, id: GOVERN 2.1}
#     - {framework: ISO/IEC 42001, id: A.3.2}
#     - {framework: ISO/IEC 42001, id: A.6.2.5}
deny contains r if {
	approvals_known
	count(approvers) < required_approvals
	msg := sprintf("environment %s needs %d approval(s), %d recorded%s", [input.environment.name, required_approvals, count(approvers), not_counted_msg])
	r := lib.result("release.approvals", msg, lib.environment_field)
}

deny contains r if {
	input.phase == "release"
	not approvals_known
	required_approvals > 0
	r := lib.result("release.approvals", unknown_approvals_msg, lib.environment_field)
}

unknown_approvals_msg := sprintf("environment %s needs %d approval(s); the reviews are not known here (slipway check --github counts them)", [input.environment.name, required_approvals])

# METADATA
# title: Approvals still to be checked
# description: >-
#   When the reviews are not known (a check run without --github), an
#   environment that needs approvals is reported: the pull request check in
#   CI, or the release (where release.approvals denies), enforces them.
# custom:
#   id: release.approvals_pending
#   severity: warn
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: NIST AI RMF, id: GOVERN 1.4}
#     - {framework: ISO/IEC 42001, id: A.6.2.5}
warn contains r if {
	input.phase != "release"
	not approvals_known
	required_approvals > 0
	r := lib.result("release.approvals_pending", unknown_approvals_msg, lib.environment_field)
}

# METADATA
# title: Approvals by the change's authors not counted
# description: >-
#   An approval by the pull request's author or by an author of its commits
#   is reported as not counted: separation of duties asks that someone
#   else approves.
# custom:
#   id: release.self_approval
#   severity: warn
#   requires: [approvals]
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: NIST AI RMF, id: GOVERN 2.1}
#     - {framework: ISO/IEC 42001, id: A.3.2}
warn contains r if {
	approvals_known
	some u in not_counted
	msg := sprintf("the approval by %s is not counted: %s wrote the change (the pull request or one of its commits)", [u, u])
	r := lib.result("release.self_approval", msg, lib.environment_field)
}

# METADATA
# title: Code owners approved their files
# description: >-
#   When the pull request's reviews and CODEOWNERS are known, every changed
#   file of the model that CODEOWNERS assigns to owners has an approval from
#   one of them (a member, for a team), as GitHub's "Require review from
#   Code Owners" asks.
# custom:
#   id: release.code_owners
#   severity: deny
#   requires: [code_owners]
#   controls:
#     - {framework: EU AI Act, id: Annex IV 2(g)}
#     - {framework: NIST AI RMF, id: GOVERN 2.1}
#     - {framework: ISO/IEC 42001, id: A.3.2}
deny contains r if {
	some f in input.code_owners
	count(f.owners) > 0
	count(f.approved_by) == 0
	msg := sprintf("%s is owned by %s (CODEOWNERS), and none of them approved", [f.file, concat(", ", f.owners)])
	r := lib.result("release.code_owners", msg, "version")
}

# METADATA
# title: Trust root unchanged, or its change approved by a security owner
# description: >-
#   When the change is known (slipway check --base, or --github), a change
#   to the trust root (the `signing` block, a file under keys/ or a trusted
#   key's file, `policy.securityOwners`) is denied until one of the
#   platform's `policy.securityOwners` (a member, for a team) who wrote
#   none of the change approved it.
#   A pull request that trusts its own key can otherwise sign its own
#   releases. With no trust root change the rule passes: not applicable.
# custom:
#   id: release.trust_changed
#   severity: deny
#   requires: [trust_root]
#   controls:
#     - {framework: EU AI Act, id: Art. 15}
#     - {framework: NIST AI RMF, id: GOVERN 1.4}
#     - {framework: NIST AI RMF, id: MANAGE 2.4}
#     - {framework: ISO/IEC 42001, id: A.6.2.5}
deny contains r if {
	input.trust_root.changed == true
	not trust_change_approved
	msg := sprintf("the trust root changed (%s): %s", [concat(", ", input.trust_root.paths), trust_owners_msg])
	r := lib.spec_result("release.trust_changed", msg, "signing.trustedKeys")
}

# trust_change_approved holds when a security owner approved; approved_by
# is null when the reviews are not known, which approves nothing.
trust_change_approved if {
	some _ in input.trust_root.approved_by
}

trust_owners_msg := "no policy.securityOwners is set, so no approval can lift this" if {
	count(object.get(input.trust_root, "owners", [])) == 0
}

trust_owners_msg := sprintf("an approval from a security owner (%s) is needed, and none is recorded", [concat(", ", input.trust_root.owners)]) if {
	count(object.get(input.trust_root, "owners", [])) > 0
}
