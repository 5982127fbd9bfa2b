# Variables of the shared module; go test ./modules -update writes
# modules/<target>/shared/variables.tf from this file.

variable "platform" {
  description = "Name of the platform repository."
  type        = string
}

variable "environment" {
  description = "Environment this shared stack serves."
  type        = string
}

variable "namespace" {
  description = "Namespace the environment's workloads live in."
  type        = string
}

variable "labels" {
  description = "Labels put on every object."
  type        = map(string)
}

variable "limits" {
  description = "Most one deployment may request; 0 means unbounded."
  type = object({
    cpu        = number
    memory_mib = number
    replicas   = number
  })
}

variable "models" {
  description = "Models deployed to the environment."
  type        = list(string)
}

variable "data_sources" {
  description = "Data sources the environment's models read."
  type = list(object({
    name           = string
    kind           = string
    location       = string
    format         = string
    version        = string
    classification = string
    owner          = string
  }))
}

output "namespace" {
  description = "Namespace of the environment."
  value       = var.namespace
}

output "data_sources" {
  description = "Names of the registered data sources."
  value       = [for d in var.data_sources : d.name]
}
