// Remote-write endpoint configuration in Prometheus's `remote_write` YAML shape.
//
// Contract: ParseRemoteWriteConfig accepts either a document whose top level has a
// `remote_write:` list or the list itself, fills in Prometheus-like defaults, and
// rejects unknown keys and inconsistent settings with an InvalidArgument whose message
// starts with the YAML path of the offending field (e.g.
// "remote_write[1].queue_config.min_shards: must be <= max_shards (10)").
// The HTTP client settings are parsed and validated by common/http/client_config.h;
// secret files are not read here but per request (http::ApplyTo), so rotated credentials
// take effect.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/client_config.h"
#include "common/relabel/relabeler.h"
#include "common/status.h"

namespace shardwise::remotewrite {

using Millis = std::chrono::milliseconds;

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

// Prometheus's metadata_config: every send_interval, the metadata of every active target
// (# TYPE/HELP/UNIT per metric family) is sent in WriteRequests of at most
// max_samples_per_send entries (scraper/remotewrite/metadata_sender.h).
struct MetadataConfig {
  bool send = true;
  Millis send_interval{60000};
  int max_samples_per_send = 500;
};

// Embeds the HTTP client settings (tls_config, basic_auth, authorization, bearer_token,
// headers) as Prometheus's RemoteWriteConfig embeds HTTPClientConfig.
struct EndpointConfig : http::HttpClientConfig {
  std::string url;
  std::string name;  // defaults to a stable hash of the url; unique across endpoints
  Millis remote_timeout{30000};
  QueueConfig queue;
  MetadataConfig metadata;
  relabel::Relabeler write_relabel_configs;  // compiled; empty keeps every series
  // The YAML entry this was parsed from, in a canonical form (keys sorted, every scalar as
  // written): two endpoints with equal sources are configured identically, whatever the
  // document's layout (RemoteWriter::Reconfigure keeps their queues).
  std::string source;
};

Result<std::vector<EndpointConfig>> ParseRemoteWriteConfig(const YAML::Node& node);
Result<std::vector<EndpointConfig>> ParseRemoteWriteConfig(std::string_view yaml);

}  // namespace shardwise::remotewrite
