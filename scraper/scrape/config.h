// Scrape configuration: the subset of Prometheus's configuration file the scraper
// understands (global + scrape_configs), with Prometheus's defaults and validation.
//
// Parsing is strict everywhere, as Prometheus's: an unknown field is an error naming its
// path ("scrape_configs[0].relabel_configs[1].regx: unknown field"), so a typo never
// silently changes behaviour. At the top level Prometheus's other sections are accepted;
// remote_write is kept as raw YAML in `Config::raw` for its own parser (which is as strict),
// and the rest (rule_files, alerting, ...) is ignored. Errors name the YAML path:
// "scrape_configs[2].scrape_timeout: ...".
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/http/client_config.h"
#include "common/labels.h"
#include "common/relabel/config.h"
#include "common/status.h"
#include "scraper/discovery/file_sd.h"
#include "scraper/discovery/http_sd.h"
#include "scraper/discovery/target_group.h"

namespace shardwise::scrape {

// Embeds the HTTP client settings (tls_config, basic_auth, authorization, bearer_token,
// headers) as Prometheus's scrape config embeds HTTPClientConfig.
struct ScrapeConfig : http::HttpClientConfig {
  std::string job_name;
  std::chrono::milliseconds scrape_interval{0};  // defaults from global
  std::chrono::milliseconds scrape_timeout{0};
  std::string metrics_path = "/metrics";
  std::string scheme = "http";
  std::vector<std::pair<std::string, std::vector<std::string>>> params;  // sorted by name
  bool honor_labels = false;
  bool honor_timestamps = true;
  uint64_t sample_limit = 0;  // 0 = no limit, for all limits
  uint64_t label_limit = 0;
  uint64_t label_name_length_limit = 0;
  uint64_t label_value_length_limit = 0;
  uint64_t body_size_limit = 0;  // bytes
  std::vector<relabel::RelabelConfig> relabel_configs;
  std::vector<relabel::RelabelConfig> metric_relabel_configs;
  std::vector<sd::TargetGroup> static_configs;
  std::vector<sd::FileSdConfig> file_sd_configs;
  std::vector<sd::HttpSdConfig> http_sd_configs;

  // Fingerprint of the scrape settings (everything but the target sources): a reload
  // restarts the job's loops only when it changed.
  uint64_t fingerprint = 0;
};

struct GlobalConfig {
  std::chrono::milliseconds scrape_interval{std::chrono::minutes(1)};
  std::chrono::milliseconds scrape_timeout{std::chrono::seconds(10)};
  Labels external_labels;
};

struct Config {
  GlobalConfig global;
  std::vector<ScrapeConfig> scrape_configs;
  // The whole document, for sections parsed elsewhere (remote_write).
  YAML::Node raw;
};

Result<Config> ParseConfig(std::string_view yaml);
Result<Config> LoadConfigFile(const std::string& path);

}  // namespace shardwise::scrape
