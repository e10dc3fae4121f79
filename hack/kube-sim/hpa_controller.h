// The HorizontalPodAutoscaler controller (autoscaling/v2), as kube-api.md §14 describes:
// every sync period per HPA it reads the target's /scale (Deployments, StatefulSets,
// ReplicaSets and custom resources with a scale subresource), computes a proposal per
// metric (Object, Pods and External from the custom and external metrics APIs; Resource
// metrics have no metrics-server here and fail), takes the highest, stabilizes and
// rate-limits it (spec.behavior or the legacy rules), writes /scale, the status
// (currentReplicas, desiredReplicas, currentMetrics, lastScaleTime, conditions
// AbleToScale, ScalingActive, ScalingLimited) and Events (SuccessfulRescale,
// FailedGet*Metric, FailedGetScale).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "common/status.h"
#include "hack/kube-sim/controller.h"

namespace shardwise::kubesim {

// GETs an aggregated API path with its query ("/apis/custom.metrics.k8s.io/v1beta2/...")
// and returns the HTTP status and body; an error only when nothing answered.
using MetricsGetter =
    std::function<Result<std::pair<int, std::string>>(const std::string& path_and_query)>;

struct HpaOptions {
  std::chrono::milliseconds sync_period{15000};
  // Downscale stabilization without spec.behavior (the controller's flag, 5 minutes).
  std::chrono::milliseconds downscale_stabilization{300000};
  MetricsGetter metrics;
};

std::unique_ptr<Controller> NewHpaController(Cluster& cluster, HpaOptions options);

}  // namespace shardwise::kubesim
