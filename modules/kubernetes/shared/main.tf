# Kubernetes target of an environment's shared infrastructure: the namespace,
# a LimitRange holding every container to the environment's limits, and a
# ConfigMap registering the data sources the environment's models read.

terraform {
  required_version = ">= 1.6.0"
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 2.20.0, < 3.0.0"
    }
  }
}

locals {
  labels = merge(
    { for k, v in var.labels : "slipway.dev/${k}" => substr(replace(v, "/[^A-Za-z0-9._-]/", "_"), 0, 63) },
    { "app.kubernetes.io/managed-by" = "slipway" },
  )
  max = merge(
    var.limits.cpu > 0 ? { cpu = tostring(var.limits.cpu) } : {},
    var.limits.memory_mib > 0 ? { memory = "${var.limits.memory_mib}Mi" } : {},
  )
}

resource "kubernetes_namespace_v1" "env" {
  metadata {
    name   = var.namespace
    labels = local.labels
  }
}

resource "kubernetes_limit_range_v1" "env" {
  count = length(local.max) > 0 ? 1 : 0

  metadata {
    name      = "slipway-limits"
    namespace = kubernetes_namespace_v1.env.metadata[0].name
    labels    = local.labels
  }

  spec {
    limit {
      type = "Container"
      max  = local.max
    }
  }
}

resource "kubernetes_config_map_v1" "data_sources" {
  metadata {
    name      = "slipway-data-sources"
    namespace = kubernetes_namespace_v1.env.metadata[0].name
    labels    = local.labels
  }

  data = {
    for d in var.data_sources : d.name => jsonencode(d)
  }
}

resource "kubernetes_config_map_v1" "platform" {
  metadata {
    name      = "slipway-platform"
    namespace = kubernetes_namespace_v1.env.metadata[0].name
    labels    = local.labels
  }

  data = {
    platform    = var.platform
    environment = var.environment
    models      = join(",", var.models)
    max_replica = tostring(var.limits.replicas)
  }
}
