#include "operator/pool/pool_spec.h"

#include "common/duration.h"

namespace shardwise::pool {
namespace {

using nlohmann::json;

Status DurationField(const json& obj, const char* key, std::string_view path,
                     std::chrono::milliseconds* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::OK();
  if (!it->is_string())
    return Status::InvalidArgument(std::string(path) + "." + key + ": must be a duration string");
  auto d = ParseDuration(it->get<std::string>());
  if (!d.ok()) return d.status().WithContext(std::string(path) + "." + key);
  *out = *d;
  return Status::OK();
}

template <typename T>
Status NumberField(const json& obj, const char* key, std::string_view path, T* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::OK();
  if (!it->is_number())
    return Status::InvalidArgument(std::string(path) + "." + key + ": must be a number");
  *out = it->get<T>();
  return Status::OK();
}

}  // namespace

Result<PoolSpec> ParsePoolSpec(const json& pool) {
  PoolSpec s;
  const json& meta = pool.value("metadata", json::object());
  s.ns = meta.value("namespace", "");
  s.name = meta.value("name", "");
  s.uid = meta.value("uid", "");
  s.generation = meta.value("generation", int64_t{0});
  const json& spec = pool.value("spec", json::object());
  if (!spec.is_object()) return Status::InvalidArgument("spec: must be an object");

  s.service_monitor_selector = spec.value("serviceMonitorSelector", json());
  s.pod_monitor_selector = spec.value("podMonitorSelector", json());
  s.monitor_namespace_selector = spec.value("monitorNamespaceSelector", json());
  SHARDWISE_RETURN_IF_ERROR(NumberField(spec, "shards", "spec", &s.shards));
  SHARDWISE_RETURN_IF_ERROR(NumberField(spec, "replicasPerShard", "spec", &s.replicas_per_shard));
  if (s.shards < 1) return Status::InvalidArgument("spec.shards: must be at least 1");
  if (s.replicas_per_shard < 1) {
    return Status::InvalidArgument("spec.replicasPerShard: must be at least 1");
  }

  if (auto it = spec.find("autoscaling"); it != spec.end() && it->is_object()) {
    std::string mode = it->value("mode", "Off");
    if (mode == "Operator") {
      s.autoscaling = AutoscalingMode::kOperator;
    } else if (mode == "HPA") {
      s.autoscaling = AutoscalingMode::kHpa;
    } else if (mode != "Off") {
      return Status::InvalidArgument("spec.autoscaling.mode: unsupported value \"" + mode +
                                     "\": supported values: \"Operator\", \"HPA\", \"Off\"");
    }
    SHARDWISE_RETURN_IF_ERROR(NumberField(*it, "minShards", "spec.autoscaling", &s.min_shards));
    SHARDWISE_RETURN_IF_ERROR(NumberField(*it, "maxShards", "spec.autoscaling", &s.max_shards));
    SHARDWISE_RETURN_IF_ERROR(
        NumberField(*it, "targetSeriesPerShard", "spec.autoscaling", &s.target_series_per_shard));
    SHARDWISE_RETURN_IF_ERROR(NumberField(*it, "targetSamplesPerSecondPerShard", "spec.autoscaling",
                                          &s.target_samples_per_second_per_shard));
    SHARDWISE_RETURN_IF_ERROR(NumberField(*it, "scaleUpStabilizationSeconds", "spec.autoscaling",
                                          &s.scale_up_stabilization_seconds));
    SHARDWISE_RETURN_IF_ERROR(NumberField(*it, "scaleDownStabilizationSeconds", "spec.autoscaling",
                                          &s.scale_down_stabilization_seconds));
    if (s.scale_up_stabilization_seconds < 0 || s.scale_down_stabilization_seconds < 0) {
      return Status::InvalidArgument(
          "spec.autoscaling: stabilization seconds must not be negative");
    }
    if (s.min_shards < 1)
      return Status::InvalidArgument("spec.autoscaling.minShards: must be at least 1");
    if (s.max_shards != 0 && s.max_shards < s.min_shards) {
      return Status::InvalidArgument("spec.autoscaling.maxShards: must not be below minShards");
    }
  }
  if (auto it = spec.find("assignment"); it != spec.end() && it->is_object()) {
    s.strategy = it->value("strategy", s.strategy);
    if (s.strategy != "consistent-bounded" && s.strategy != "hashmod") {
      return Status::InvalidArgument("spec.assignment.strategy: unsupported value \"" + s.strategy +
                                     "\": supported values: \"consistent-bounded\", \"hashmod\"");
    }
    SHARDWISE_RETURN_IF_ERROR(NumberField(*it, "loadFactor", "spec.assignment", &s.load_factor));
    if (s.load_factor < 1.0) {
      return Status::InvalidArgument("spec.assignment.loadFactor: must be at least 1");
    }
    SHARDWISE_RETURN_IF_ERROR(
        DurationField(*it, "handoffTimeout", "spec.assignment", &s.handoff_timeout));
  }
  if (auto it = spec.find("serviceDiscoveryRole"); it != spec.end() && !it->is_null()) {
    std::string role = it->is_string() ? it->get<std::string>() : "";
    if (role == "Endpoints") {
      s.service_discovery_role = opdiscovery::ServiceDiscoveryRole::kEndpoints;
    } else if (role == "EndpointSlice") {
      s.service_discovery_role = opdiscovery::ServiceDiscoveryRole::kEndpointSlice;
    } else {
      return Status::InvalidArgument("spec.serviceDiscoveryRole: unsupported value \"" +
                                     (it->is_string() ? role : it->dump()) +
                                     "\": supported values: \"Endpoints\", \"EndpointSlice\"");
    }
  }
  if (auto it = spec.find("scrapeDefaults"); it != spec.end() && it->is_object()) {
    SHARDWISE_RETURN_IF_ERROR(
        DurationField(*it, "interval", "spec.scrapeDefaults", &s.default_interval));
    SHARDWISE_RETURN_IF_ERROR(
        DurationField(*it, "timeout", "spec.scrapeDefaults", &s.default_timeout));
    if (s.default_timeout > s.default_interval) {
      return Status::InvalidArgument(
          "spec.scrapeDefaults.timeout: must not be longer than the interval");
    }
  }
  if (auto it = spec.find("externalLabels"); it != spec.end() && it->is_object()) {
    std::vector<Label> labels;
    for (const auto& [k, v] : it->items()) {
      if (!IsValidLabelName(k)) {
        return Status::InvalidArgument("spec.externalLabels: invalid label name \"" + k + "\"");
      }
      if (!v.is_string())
        return Status::InvalidArgument("spec.externalLabels." + k + ": must be a string");
      labels.push_back({k, v.get<std::string>()});
    }
    s.external_labels = Labels::FromUnsorted(std::move(labels));
  }
  if (auto it = spec.find("remoteWrite"); it != spec.end() && it->is_array()) {
    for (size_t i = 0; i < it->size(); ++i) {
      const json& rw = (*it)[i];
      std::string url = rw.value("url", "");
      if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
        return Status::InvalidArgument("spec.remoteWrite[" + std::to_string(i) +
                                       "].url: must be an http:// or https:// URL");
      }
    }
    s.remote_write = *it;
  }
  if (auto it = spec.find("storage"); it != spec.end() && it->is_object()) {
    SHARDWISE_RETURN_IF_ERROR(DurationField(*it, "retention", "spec.storage", &s.retention));
    s.volume_claim_template = it->value("volumeClaimTemplate", json());
    if (auto p = it->find("persistentVolumeClaimRetentionPolicy");
        p != it->end() && p->is_object()) {
      for (auto [key, out] : {std::pair{"whenScaled", &s.pvc_when_scaled},
                              std::pair{"whenDeleted", &s.pvc_when_deleted}}) {
        auto v = p->find(key);
        if (v == p->end() || v->is_null()) continue;
        if (!v->is_string() || (*v != "Retain" && *v != "Delete")) {
          return Status::InvalidArgument(
              std::string("spec.storage.persistentVolumeClaimRetentionPolicy.") + key +
              ": supported values: \"Retain\", \"Delete\"");
        }
        *out = v->get<std::string>();
      }
    }
  }
  s.scraper = spec.value("scraper", json::object());
  return s;
}

}  // namespace shardwise::pool
