# Variables only the online deployment module declares; see common.tf.

variable "replicas" {
  description = "Bounds of horizontal scaling."
  type = object({
    min = number
    max = number
  })
}

variable "latency_slo_ms" {
  description = "Latency objective in milliseconds."
  type        = number
}

variable "rollout" {
  description = "Progressive rollout: traffic percentages and the pause between steps."
  type = object({
    steps         = list(number)
    pause_seconds = number
  })
}

variable "health" {
  description = "Readiness and liveness checks: an HTTP path or a command, with period and failure threshold; a missing check is null."
  type = object({
    readiness = object({
      path              = string
      command           = list(string)
      period_seconds    = number
      failure_threshold = number
    })
    liveness = object({
      path              = string
      command           = list(string)
      period_seconds    = number
      failure_threshold = number
    })
  })
}

output "name" {
  description = "Name of the workload."
  value       = local.name
}

output "model_version" {
  description = "Model version deployed."
  value       = var.model_version
}

output "artifact_digest" {
  description = "Digest of the artifact deployed."
  value       = var.artifact_digest
}
