# Local target of the streaming deployment: it creates nothing outside Terraform's
# state. Each resource records part of the deployment contract with the
# built-in terraform_data, so a plan shows attribute-level changes a
# reviewer can judge, without any provider to download.

terraform {
  required_version = ">= 1.6.0"
}

locals {
  name = var.model
}

resource "terraform_data" "deployment" {
  # Moving a workload to another namespace recreates it on a real cluster.
  triggers_replace = {
    namespace = var.namespace
  }

  input = {
    kind            = var.kind
    model           = var.model
    model_version   = var.model_version
    environment     = var.environment
    namespace       = var.namespace
    owner           = var.owner
    artifact_uri    = var.artifact_uri
    artifact_digest = var.artifact_digest
    artifact_format = var.artifact_format
    resources       = var.resources
    labels          = var.labels
    data_sources    = var.data_sources
    logging         = var.logging
    on_call         = var.on_call
  }
}

resource "terraform_data" "workload" {
  input = {
    input_topic    = var.input_topic
    output_topic   = var.output_topic
    consumer_group = var.consumer_group
    parallelism    = var.parallelism
  }
}

# The template's readiness and liveness checks, as a cluster would run them.
resource "terraform_data" "health" {
  input = var.health
}

resource "terraform_data" "alert" {
  for_each = { for a in var.alerts : a.name => a }

  input = merge(each.value, { model = var.model, environment = var.environment })
}

resource "terraform_data" "slo" {
  for_each = { for s in var.slos : s.name => s }

  input = merge(each.value, { model = var.model, environment = var.environment })
}

resource "terraform_data" "monitoring" {
  input = var.monitoring
}
