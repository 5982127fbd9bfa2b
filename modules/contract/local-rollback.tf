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

# blue-green: two slots, each holding a version and its artifact, and the
# pointer to the live one. Unlike the others, this state is not a function
# of the specs alone: the idle slot keeps the version before the live one.
# So the root module reads the stack's own state back (a
# terraform_remote_state data source, read at plan time and pinned in the
# saved plan) and passes its blue_green output in as var.blue_green_state.
# A version (with its artifact) already in a slot keeps the slots and moves
# the pointer to it, which is what a rollback does; any other goes into the
# idle slot and becomes live, which is what a release does. Planning the
# same version again changes nothing.
locals {
  bg_names  = ["blue", "green"]
  bg_before = var.blue_green_state == null ? { blue = null, green = null } : var.blue_green_state.slots
  bg_live   = var.blue_green_state == null ? null : var.blue_green_state.live
  bg_this   = { version = var.model_version, artifact_digest = var.artifact_digest }
  bg_found  = [for s in local.bg_names : s if local.bg_before[s] == local.bg_this]
  bg_next   = length(local.bg_found) > 0 ? local.bg_found[0] : (local.bg_live == "blue" ? "green" : "blue")

  blue_green = var.rollback_strategy != "blue-green" ? null : {
    slots = { for s in local.bg_names : s => s == local.bg_next ? local.bg_this : local.bg_before[s] }
    live  = local.bg_next
  }
}

resource "terraform_data" "slot" {
  for_each = toset(local.blue_green == null ? [] : local.bg_names)

  input = local.blue_green.slots[each.key]
}

resource "terraform_data" "live" {
  count = local.blue_green == null ? 0 : 1

  input = local.blue_green.live
}
