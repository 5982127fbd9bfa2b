# Contract of the streaming deployment module: every target declares exactly
# these variables and outputs (checked by modules_test.go).

variable "kind" {
  description = "Template kind of the deployment."
  type        = string
}

variable "model" {
  description = "Model name; names the workload."
  type        = string
}

variable "model_version" {
  description = "Semantic version of the model being deployed."
  type        = string
}

variable "environment" {
  description = "Environment the model is deployed to."
  type        = string
}

variable "namespace" {
  description = "Namespace the workload lives in."
  type        = string
}

variable "owner" {
  description = "Owner's e-mail address."
  type        = string
}

variable "artifact_uri" {
  description = "Where the trained model artifact is stored."
  type        = string
}

variable "artifact_digest" {
  description = "sha256 digest the artifact must match."
  type        = string
}

variable "artifact_format" {
  description = "Serialization format of the artifact."
  type        = string
}

variable "resources" {
  description = "CPU and memory one replica or job requests."
  type = object({
    cpu        = number
    memory_mib = number
  })
}

variable "labels" {
  description = "Labels put on every object: owner, model, version, environment."
  type        = map(string)
}

variable "data_sources" {
  description = "Data sources the model reads, pinned to their versions."
  type = list(object({
    name    = string
    version = string
  }))
}

variable "alerts" {
  description = "Alert rules from the model's handover."
  type = list(object({
    name      = string
    condition = string
    expr      = string
    severity  = string
    metrics   = list(string)
  }))
}

variable "slos" {
  description = "Service level objectives from the model's handover."
  type = list(object({
    name      = string
    objective = number
    window    = string
  }))
}

variable "monitoring" {
  description = "Drift monitoring of the model's features."
  type = object({
    schedule        = string
    drift_features  = list(string)
    drift_metric    = string
    drift_threshold = number
  })
}

variable "logging" {
  description = "Prediction logging and its retention."
  type = object({
    predictions    = bool
    retention_days = number
    sample_rate    = number
  })
}

variable "on_call" {
  description = "Team paged for this model."
  type        = string
}

variable "rollback_strategy" {
  description = "Rollback strategy from the model's handover: previous-version, blue-green, canary-abort or manual."
  type        = string
}

variable "blue_green_state" {
  description = "The blue-green slots and live pointer the stack's state holds, read back from that state by the root module of a blue-green stack; null before its first apply and for other strategies."
  type = object({
    slots = map(object({
      version         = string
      artifact_digest = string
    }))
    live = string
  })
  default = null
}

output "blue_green" {
  description = "The blue-green slots and the live one after this apply (null unless the strategy is blue-green): the root module's blue_green output, which its next plan reads back."
  value       = local.blue_green
}

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
