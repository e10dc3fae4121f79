// PoolSpec: a ScrapePool's spec (shardwise.io/v1alpha1) as a validated struct. The API
// server already applied the CRD's defaults and schema checks; ParsePoolSpec re-checks what
// the schema cannot say (durations, bounds between fields) and reports every problem with
// its field path, so the controller can put it in a status condition and an Event.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/labels.h"
#include "common/status.h"
#include "operator/discovery/monitor.h"

namespace shardwise::pool {

enum class AutoscalingMode { kOff, kOperator, kHpa };

struct PoolSpec {
  std::string ns;
  std::string name;
  std::string uid;
  int64_t generation = 0;

  nlohmann::json service_monitor_selector;  // LabelSelector JSON; null = select none
  nlohmann::json pod_monitor_selector;
  nlohmann::json monitor_namespace_selector;  // null = the pool's own namespace only

  int shards = 1;
  int replicas_per_shard = 1;

  AutoscalingMode autoscaling = AutoscalingMode::kOff;
  int min_shards = 1;
  int max_shards = 0;  // 0 = unbounded
  double target_series_per_shard = 0;
  double target_samples_per_second_per_shard = 0;
  int scale_up_stabilization_seconds = 60;
  int scale_down_stabilization_seconds = 600;

  std::string strategy = "consistent-bounded";
  double load_factor = 1.10;
  std::chrono::milliseconds handoff_timeout{std::chrono::minutes(2)};

  // How ServiceMonitors discover targets, as the Prometheus Operator's
  // spec.serviceDiscoveryRole: "Endpoints" (its default) or "EndpointSlice".
  opdiscovery::ServiceDiscoveryRole service_discovery_role =
      opdiscovery::ServiceDiscoveryRole::kEndpoints;

  std::chrono::milliseconds default_interval{30000};
  std::chrono::milliseconds default_timeout{10000};
  Labels external_labels;
  nlohmann::json remote_write = nlohmann::json::array();  // as written in the CR
  std::chrono::milliseconds retention{std::chrono::hours(2)};
  nlohmann::json volume_claim_template;  // null = emptyDir
  // StatefulSet persistentVolumeClaimRetentionPolicy: "Retain" or "Delete".
  std::string pvc_when_scaled = "Delete";   // a drained shard's data is already sent
  std::string pvc_when_deleted = "Retain";  // deleting the pool keeps unsent data
  nlohmann::json scraper;  // image, resources, args, env, nodeSelector, tolerations
};

Result<PoolSpec> ParsePoolSpec(const nlohmann::json& pool);

}  // namespace shardwise::pool
