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
  name = var.model
  # A cluster runs the one version this module deploys: the blue-green
  # slots are kept by the local target only (see local/*/rollback.tf).
  blue_green = null
  # Label values allow only [A-Za-z0-9._-], up to 63 characters; the owner
  # label is an e-mail address.
  labels = merge(
    { for k, v in var.labels : "slipway.dev/${k}" => substr(replace(v, "/[^A-Za-z0-9._-]/", "_"), 0, 63) },
    { "app.kubernetes.io/name" = var.model, "app.kubernetes.io/managed-by" = "slipway" },
  )
  selector = {
    "app.kubernetes.io/name"  = var.model
    "slipway.dev/environment" = var.environment
  }
  annotations = {
    "slipway.dev/artifact-uri"    = var.artifact_uri
    "slipway.dev/artifact-digest" = var.artifact_digest
    "slipway.dev/on-call"         = var.on_call
  }
  # The serving image loads the artifact named by MODEL_URI and refuses one
  # whose digest differs from MODEL_DIGEST.
  image = "ghcr.io/slipway-ml/model-server:1"
  model_env = {
    MODEL_NAME          = var.model
    MODEL_VERSION       = var.model_version
    MODEL_URI           = var.artifact_uri
    MODEL_DIGEST        = var.artifact_digest
    MODEL_FORMAT        = var.artifact_format
    LOG_PREDICTIONS     = tostring(var.logging.predictions)
    LOG_SAMPLE_RATE     = tostring(var.logging.sample_rate)
    LOG_RETENTION_DAYS  = tostring(var.logging.retention_days)
    DATA_SOURCE_VERSION = join(",", [for d in var.data_sources : "${d.name}=${d.version}"])
  }
  cpu    = tostring(var.resources.cpu)
  memory = "${var.resources.memory_mib}Mi"
}

# Alert rules need the Prometheus operator's PrometheusRule resource; the
# provider can only create custom resources through kubernetes_manifest.
resource "kubernetes_manifest" "alerts" {
  count = length(var.alerts) > 0 ? 1 : 0

  manifest = {
    apiVersion = "monitoring.coreos.com/v1"
    kind       = "PrometheusRule"
    metadata = {
      name      = "${local.name}-alerts"
      namespace = var.namespace
      labels    = local.labels
    }
    spec = {
      groups = [{
        name = local.name
        rules = [for a in var.alerts : {
          alert = a.name
          # The condition as Slipway's PromQL parser read it.
          expr   = a.expr
          labels = { severity = a.severity, model = var.model }
        }]
      }]
    }
  }
}

resource "kubernetes_config_map_v1" "monitoring" {
  metadata {
    name      = "${local.name}-monitoring"
    namespace = var.namespace
    labels    = local.labels
  }

  data = {
    "slos.json"       = jsonencode(var.slos)
    "monitoring.json" = jsonencode(var.monitoring)
  }
}

resource "kubernetes_deployment_v1" "model" {
  metadata {
    name        = local.name
    namespace   = var.namespace
    labels      = local.labels
    annotations = local.annotations
  }

  spec {
    # The autoscaler owns the replica count once the deployment exists.
    replicas = var.replicas.min

    selector {
      match_labels = local.selector
    }

    strategy {
      type = "RollingUpdate"
      rolling_update {
        max_surge       = "${var.rollout.steps[0]}%"
        max_unavailable = "0"
      }
    }

    template {
      metadata {
        labels      = merge(local.labels, local.selector)
        annotations = local.annotations
      }

      spec {
        container {
          name  = "model"
          image = local.image

          port {
            name           = "http"
            container_port = 8080
          }

          dynamic "env" {
            for_each = local.model_env
            content {
              name  = env.key
              value = env.value
            }
          }

          resources {
            requests = {
              cpu    = local.cpu
              memory = local.memory
            }
            limits = {
              memory = local.memory
            }
          }

          # Probes from the template's health checks.
          dynamic "readiness_probe" {
            for_each = var.health != null && try(var.health.readiness, null) != null ? [var.health.readiness] : []
            content {
              period_seconds    = readiness_probe.value.period_seconds
              failure_threshold = readiness_probe.value.failure_threshold

              dynamic "http_get" {
                for_each = readiness_probe.value.path != null ? [readiness_probe.value.path] : []
                content {
                  path = http_get.value
                  port = "http"
                }
              }

              dynamic "exec" {
                for_each = readiness_probe.value.command != null ? [readiness_probe.value.command] : []
                content {
                  command = exec.value
                }
              }
            }
          }

          dynamic "liveness_probe" {
            for_each = var.health != null && try(var.health.liveness, null) != null ? [var.health.liveness] : []
            content {
              period_seconds    = liveness_probe.value.period_seconds
              failure_threshold = liveness_probe.value.failure_threshold

              dynamic "http_get" {
                for_each = liveness_probe.value.path != null ? [liveness_probe.value.path] : []
                content {
                  path = http_get.value
                  port = "http"
                }
              }

              dynamic "exec" {
                for_each = liveness_probe.value.command != null ? [liveness_probe.value.command] : []
                content {
                  command = exec.value
                }
              }
            }
          }
        }
      }
    }
  }

  lifecycle {
    ignore_changes = [spec[0].replicas]
  }
}

resource "kubernetes_service_v1" "model" {
  metadata {
    name      = local.name
    namespace = var.namespace
    labels    = local.labels
  }

  spec {
    selector = local.selector

    port {
      name        = "http"
      port        = 80
      target_port = "http"
    }
  }
}

resource "kubernetes_horizontal_pod_autoscaler_v2" "model" {
  metadata {
    name      = local.name
    namespace = var.namespace
    labels    = local.labels
  }

  spec {
    min_replicas = var.replicas.min
    max_replicas = var.replicas.max

    scale_target_ref {
      api_version = "apps/v1"
      kind        = "Deployment"
      name        = kubernetes_deployment_v1.model.metadata[0].name
    }

    metric {
      type = "Resource"
      resource {
        name = "cpu"
        target {
          type                = "Utilization"
          average_utilization = 70
        }
      }
    }
  }
}

resource "kubernetes_pod_disruption_budget_v1" "model" {
  metadata {
    name      = local.name
    namespace = var.namespace
    labels    = local.labels
  }

  spec {
    min_available = var.replicas.min > 1 ? var.replicas.min - 1 : 1

    selector {
      match_labels = local.selector
    }
  }
}
