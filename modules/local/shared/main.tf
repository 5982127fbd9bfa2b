# Local target of an environment's shared infrastructure: the namespace, the
# limits every deployment is held to and the data sources the environment's
# models read, recorded with the built-in terraform_data.

terraform {
  required_version = ">= 1.6.0"
}

resource "terraform_data" "namespace" {
  triggers_replace = {
    namespace = var.namespace
  }

  input = {
    platform    = var.platform
    environment = var.environment
    namespace   = var.namespace
    labels      = var.labels
    models      = var.models
  }
}

resource "terraform_data" "limits" {
  input = var.limits
}

resource "terraform_data" "data_source" {
  for_each = { for d in var.data_sources : d.name => d }

  input = each.value
}
