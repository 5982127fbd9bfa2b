# The state the handover's rollback strategy takes back, so that a rollback
# rehearsal (slipway rollback) changes state that slipway drift compares.
# Each models the steady state a release leaves, which is also what
# re-applying an earlier release's pinned plan restores.

# previous-version: the version serving traffic, and its artifact.
resource "terraform_data" "serving" {
  count = var.rollback_strategy == "previous-version" ? 1 : 0

  input = {
    version         = var.model_version
    artifact_digest = var.artifact_digest
  }
}

# canary-abort: the version taking the stable traffic and the canary's
# weight. A release leaves its rollout finished and a rollback leaves it
# aborted: either way no canary holds traffic, so the weight is 0 and the
# rehearsal moves the stable version back.
resource "terraform_data" "canary" {
  count = var.rollback_strategy == "canary-abort" ? 1 : 0

  input = {
    stable_version = var.model_version
    weight         = 0
  }
}
