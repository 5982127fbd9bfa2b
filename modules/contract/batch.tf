# Variables only the batch deployment module declares; see common.tf.

variable "schedule" {
  description = "Cron schedule of the job."
  type        = string
}

variable "wait_for" {
  description = "Data source whose refresh the job waits for; empty for none."
  type        = string
  default     = ""
}

variable "timeout" {
  description = "Longest a run may take, e.g. 2h."
  type        = string
}

variable "retries" {
  description = "How often a failed run is retried."
  type        = number
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
