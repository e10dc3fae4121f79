// Remote-write endpoint configuration in Prometheus's `remote_write` YAML shape.
//
// Contract: ParseRemoteWriteConfig accepts either a document whose top level has a
// `remote_write:` list or the list itself, fills in Prometheus-like defaults, and
// rejects unknown keys and inconsistent settings with an InvalidArgument whose message
// starts with the YAML path of the offending field (e.g.
// "remote_write[1].queue_config.min_shards: must be <= max_shards (10)").
// Secrets given as files (password_file, credentials_file, bearer_token_file) are not
// read here: senders read them per request so rotated credentials take effect.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/relabel/relabeler.h"
#include "common/status.h"

namespace shardwise::remotewrite {

using Millis = std::chrono::milliseconds;

struct TlsConfig {
  std::string ca_file, cert_file, key_file, server_name;
  bool insecure_skip_verify = false;
};

struct BasicAuth {
  std::string username, password, password_file;
};

// `authorization` block; the legacy bearer_token(_file) fields map onto it.
struct Authorization {
  std::string type = "Bearer";
  std::string credentials, credentials_file;
};

struct QueueConfig {
  int capacity = 10000;  // samples buffered per shard before the WAL reader waits
  int max_shards = 50;
  int min_shards = 1;
  int max_samples_per_send = 2000;
  Millis batch_send_deadline{5000};  // a partial batch is sent after this long
  Millis min_backoff{30};
  Millis max_backoff{5000};
  bool retry_on_http_429 = true;
};

struct EndpointConfig {
  std::string url;
  std::string name;  // defaults to a stable hash of the url; unique across endpoints
  Millis remote_timeout{30000};
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<BasicAuth> basic_auth;
  std::optional<Authorization> authorization;
  TlsConfig tls;
  QueueConfig queue;
  relabel::Relabeler write_relabel_configs;  // compiled; empty keeps every series
};

Result<std::vector<EndpointConfig>> ParseRemoteWriteConfig(const YAML::Node& node);
Result<std::vector<EndpointConfig>> ParseRemoteWriteConfig(std::string_view yaml);

// Prometheus duration syntax: "1h30m", "250ms", "5s", "2d", "1w", "1y", "0".
Result<Millis> ParseDuration(std::string_view text);

}  // namespace shardwise::remotewrite
