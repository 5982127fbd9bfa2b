# Variables only the streaming deployment module declares; see common.tf.

variable "input_topic" {
  description = "Topic the consumers read."
  type        = string
}

variable "output_topic" {
  description = "Topic scores are written to."
  type        = string
}

variable "consumer_group" {
  description = "Consumer group of the workers."
  type        = string
}

variable "parallelism" {
  description = "Number of consumer workers."
  type        = number
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
