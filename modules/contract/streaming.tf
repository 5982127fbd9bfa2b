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
