// What discovery hands to the assigner and the scrapers' plans: targets with their final
// labels and everything needed to scrape them. ScrapeConfig is shared by all targets of one
// monitor endpoint (one Prometheus job).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/labels.h"
#include "common/relabel/config.h"
#include "common/relabel/relabeler.h"
#include "operator/discovery/monitor.h"

namespace shardwise::opdiscovery {

struct ScrapeConfig {
  std::string job_name;  // serviceMonitor/<ns>/<name>/<i> or podMonitor/<ns>/<name>/<i>
  Monitor::Kind monitor_kind = Monitor::Kind::kServiceMonitor;
  std::string monitor_namespace;  // Secret and ConfigMap references resolve here
  std::string monitor_name;
  size_t endpoint_index = 0;

  int64_t interval_ms = 0;
  int64_t timeout_ms = 0;
  std::string scheme;        // http or https
  std::string metrics_path;  // default /metrics
  std::map<std::string, std::vector<std::string>> params;
  bool honor_labels = false;
  bool honor_timestamps = true;
  Limits limits;

  // The full generated target relabeling (operator rules + the endpoint's relabelings).
  std::vector<relabel::RelabelConfig> relabel_configs;
  std::vector<relabel::RelabelConfig> metric_relabel_configs;
  relabel::Relabeler metric_relabeler;  // compiled metric_relabel_configs

  std::optional<TlsConfig> tls_config;
  std::optional<Authorization> authorization;
  std::optional<KeyRef> bearer_token_secret;
  std::optional<BasicAuth> basic_auth;
};

struct Target {
  // xxHash3 of job name, address, metrics path and URL params: stable across restarts and
  // label changes, so the assigner can keep a target where it is.
  uint64_t id = 0;
  // Final target labels: relabeled, "__"-prefixed labels removed, instance defaulted to the
  // address. These go on every scraped series.
  Labels labels;
  // The labels at the end of target relabeling, __meta_* removed: __address__, __scheme__,
  // __metrics_path__, __param_*, __scrape_interval__, __scrape_timeout__ and the final
  // labels, as Prometheus keeps them (and as http_sd shows them).
  Labels internal_labels;

  // The scrape parameters as the target's labels set them.
  std::string address;
  std::string scheme;
  std::string metrics_path;
  std::map<std::string, std::vector<std::string>> params;
  int64_t interval_ms = 0;
  int64_t timeout_ms = 0;

  std::shared_ptr<const ScrapeConfig> config;
};

}  // namespace shardwise::opdiscovery
