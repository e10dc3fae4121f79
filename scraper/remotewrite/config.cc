#include "scraper/remotewrite/config.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "common/duration.h"
#include "common/labels.h"
#include "common/relabel/parse.h"

namespace shardwise::remotewrite {
namespace {

Status Invalid(const std::string& path, std::string_view what) {
  return Status::InvalidArgument(fmt::format("{}: {}", path, what));
}

// Fails on keys outside `known`: a typo must not silently become a default.
// Keys for which `parsed_elsewhere` is true are accepted too.
Status CheckKeys(const YAML::Node& map, const std::string& path,
                 std::initializer_list<std::string_view> known,
                 bool (*parsed_elsewhere)(std::string_view) = nullptr) {
  if (!map.IsMap()) return Invalid(path, "must be a mapping");
  for (const auto& kv : map) {
    std::string key = kv.first.as<std::string>();
    if (parsed_elsewhere != nullptr && parsed_elsewhere(key)) continue;
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return Invalid(path + "." + key, "unknown field");
    }
  }
  return Status::OK();
}

Status GetString(const YAML::Node& map, const char* key, const std::string& path,
                 std::string* out) {
  const YAML::Node n = map[key];
  if (!n || n.IsNull()) return Status::OK();
  if (!n.IsScalar()) return Invalid(path + "." + key, "must be a string");
  *out = n.as<std::string>();
  return Status::OK();
}

Status GetBool(const YAML::Node& map, const char* key, const std::string& path, bool* out) {
  const YAML::Node n = map[key];
  if (!n || n.IsNull()) return Status::OK();
  try {
    *out = n.as<bool>();
  } catch (const YAML::Exception&) {
    return Invalid(path + "." + key, "must be true or false");
  }
  return Status::OK();
}

Status GetInt(const YAML::Node& map, const char* key, const std::string& path, int* out) {
  const YAML::Node n = map[key];
  if (!n || n.IsNull()) return Status::OK();
  try {
    *out = n.as<int>();
  } catch (const YAML::Exception&) {
    return Invalid(path + "." + key, "must be an integer");
  }
  return Status::OK();
}

Status GetDuration(const YAML::Node& map, const char* key, const std::string& path, Millis* out) {
  std::string text;
  SHARDWISE_RETURN_IF_ERROR(GetString(map, key, path, &text));
  if (text.empty()) return Status::OK();
  Result<Millis> d = shardwise::ParseDuration(text);
  if (!d.ok()) return Invalid(path + "." + key, d.status().message());
  *out = *d;
  return Status::OK();
}

Status ParseQueue(const YAML::Node& n, const std::string& path, QueueConfig* q) {
  SHARDWISE_RETURN_IF_ERROR(
      CheckKeys(n, path,
                {"capacity", "max_shards", "min_shards", "max_samples_per_send",
                 "batch_send_deadline", "min_backoff", "max_backoff", "retry_on_http_429"}));
  SHARDWISE_RETURN_IF_ERROR(GetInt(n, "capacity", path, &q->capacity));
  SHARDWISE_RETURN_IF_ERROR(GetInt(n, "max_shards", path, &q->max_shards));
  SHARDWISE_RETURN_IF_ERROR(GetInt(n, "min_shards", path, &q->min_shards));
  SHARDWISE_RETURN_IF_ERROR(GetInt(n, "max_samples_per_send", path, &q->max_samples_per_send));
  SHARDWISE_RETURN_IF_ERROR(GetDuration(n, "batch_send_deadline", path, &q->batch_send_deadline));
  SHARDWISE_RETURN_IF_ERROR(GetDuration(n, "min_backoff", path, &q->min_backoff));
  SHARDWISE_RETURN_IF_ERROR(GetDuration(n, "max_backoff", path, &q->max_backoff));
  SHARDWISE_RETURN_IF_ERROR(GetBool(n, "retry_on_http_429", path, &q->retry_on_http_429));
  if (q->min_shards < 1) return Invalid(path + ".min_shards", "must be >= 1");
  if (q->max_shards < q->min_shards) {
    return Invalid(path + ".max_shards", fmt::format("must be >= min_shards ({})", q->min_shards));
  }
  if (q->max_samples_per_send < 1) return Invalid(path + ".max_samples_per_send", "must be >= 1");
  if (q->capacity < q->max_samples_per_send) {
    return Invalid(path + ".capacity",
                   fmt::format("must be >= max_samples_per_send ({})", q->max_samples_per_send));
  }
  if (q->batch_send_deadline.count() <= 0) {
    return Invalid(path + ".batch_send_deadline", "must be > 0");
  }
  if (q->min_backoff.count() <= 0) return Invalid(path + ".min_backoff", "must be > 0");
  if (q->max_backoff < q->min_backoff) {
    return Invalid(path + ".max_backoff", "must be >= min_backoff");
  }
  return Status::OK();
}

Status ParseMetadata(const YAML::Node& n, const std::string& path, MetadataConfig* m) {
  SHARDWISE_RETURN_IF_ERROR(CheckKeys(n, path, {"send", "send_interval", "max_samples_per_send"}));
  SHARDWISE_RETURN_IF_ERROR(GetBool(n, "send", path, &m->send));
  SHARDWISE_RETURN_IF_ERROR(GetDuration(n, "send_interval", path, &m->send_interval));
  SHARDWISE_RETURN_IF_ERROR(GetInt(n, "max_samples_per_send", path, &m->max_samples_per_send));
  if (m->send_interval.count() <= 0) return Invalid(path + ".send_interval", "must be > 0");
  if (m->max_samples_per_send < 1) return Invalid(path + ".max_samples_per_send", "must be >= 1");
  return Status::OK();
}

Status ParseEndpoint(const YAML::Node& n, const std::string& path, EndpointConfig* ep) {
  SHARDWISE_RETURN_IF_ERROR(CheckKeys(
      n, path,
      {"url", "name", "remote_timeout", "queue_config", "write_relabel_configs", "metadata_config",
       "follow_redirects", "enable_http2", "send_exemplars", "send_native_histograms"},
      http::IsHttpClientConfigKey));
  SHARDWISE_RETURN_IF_ERROR(GetString(n, "url", path, &ep->url));
  if (ep->url.empty()) return Invalid(path + ".url", "is required");
  if (!ep->url.starts_with("http://") && !ep->url.starts_with("https://")) {
    return Invalid(path + ".url", "must start with http:// or https://");
  }
  SHARDWISE_RETURN_IF_ERROR(GetString(n, "name", path, &ep->name));
  if (ep->name.empty()) ep->name = fmt::format("{:06x}", Labels{{"url", ep->url}}.Hash() >> 40);
  SHARDWISE_RETURN_IF_ERROR(GetDuration(n, "remote_timeout", path, &ep->remote_timeout));
  if (ep->remote_timeout.count() <= 0) return Invalid(path + ".remote_timeout", "must be > 0");

  Result<http::HttpClientConfig> client = http::ParseHttpClientConfig(n, path);
  if (!client.ok()) return client.status();
  static_cast<http::HttpClientConfig&>(*ep) = std::move(client).value();

  if (const YAML::Node q = n["queue_config"]; q && !q.IsNull()) {
    SHARDWISE_RETURN_IF_ERROR(ParseQueue(q, path + ".queue_config", &ep->queue));
  }
  if (const YAML::Node m = n["metadata_config"]; m && !m.IsNull()) {
    SHARDWISE_RETURN_IF_ERROR(ParseMetadata(m, path + ".metadata_config", &ep->metadata));
  }
  if (const YAML::Node r = n["write_relabel_configs"]; r && !r.IsNull()) {
    if (!r.IsSequence()) return Invalid(path + ".write_relabel_configs", "must be a list");
    SHARDWISE_RETURN_IF_ERROR(relabel::CheckYamlFields(r, path + ".write_relabel_configs"));
    Result<std::vector<relabel::RelabelConfig>> configs = relabel::FromYaml(r);
    if (!configs.ok()) return Invalid(path + ".write_relabel_configs", configs.status().message());
    Result<relabel::Relabeler> compiled = relabel::Relabeler::Compile(std::move(*configs));
    if (!compiled.ok()) {
      return Invalid(path + ".write_relabel_configs", compiled.status().message());
    }
    ep->write_relabel_configs = std::move(*compiled);
  }
  return Status::OK();
}

Result<std::vector<EndpointConfig>> ParseList(const YAML::Node& list);

}  // namespace

Result<std::vector<EndpointConfig>> ParseRemoteWriteConfig(const YAML::Node& node) {
  if (node.IsMap()) {
    const YAML::Node list = node["remote_write"];
    if (!list) return std::vector<EndpointConfig>();
    return ParseList(list);
  }
  return ParseList(node);
}

namespace {

// Keys sorted (nlohmann's objects are ordered maps), scalars as their text.
nlohmann::json Canonical(const YAML::Node& n) {
  if (n.IsMap()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& kv : n) out[kv.first.Scalar()] = Canonical(kv.second);
    return out;
  }
  if (n.IsSequence()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : n) out.push_back(Canonical(e));
    return out;
  }
  if (n.IsScalar()) return n.Scalar();
  return nullptr;
}

Result<std::vector<EndpointConfig>> ParseList(const YAML::Node& list) {
  std::vector<EndpointConfig> out;
  if (!list || list.IsNull()) return out;
  if (!list.IsSequence()) return Invalid("remote_write", "must be a list");
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string path = fmt::format("remote_write[{}]", i);
    EndpointConfig ep;
    try {
      SHARDWISE_RETURN_IF_ERROR(ParseEndpoint(list[i], path, &ep));
      ep.source = Canonical(list[i]).dump();
    } catch (const YAML::Exception& e) {
      return Invalid(path, e.what());
    }
    if (!names.insert(ep.name).second) {
      return Invalid(path + ".name", fmt::format("duplicate remote write name \"{}\"", ep.name));
    }
    out.push_back(std::move(ep));
  }
  return out;
}

}  // namespace

Result<std::vector<EndpointConfig>> ParseRemoteWriteConfig(std::string_view yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(fmt::format("remote_write: invalid YAML: {}", e.what()));
  }
  return ParseRemoteWriteConfig(root);
}

}  // namespace shardwise::remotewrite
