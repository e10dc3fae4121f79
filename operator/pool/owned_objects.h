// The Kubernetes objects a ScrapePool owns, built as plain JSON for server-side apply
// (field manager "shardwise-operator"). Pure functions: no client, easy to test.
//
//   StatefulSet shardwise-<pool>-<replica>   one per replica set; pod ordinal = shard index
//   Service     shardwise-<pool>             headless, for stable pod DNS and /metrics
//   PodDisruptionBudget shardwise-<pool>     maxUnavailable 1
//   ConfigMap   shardwise-<pool>-config      scraper.yaml: external labels + remote_write
//   ServiceAccount shardwise-<pool>-scraper  the scrapers' identity at the discovery endpoint;
//                                            no API rights, no automounted API token
// Scraper pods (docs/security.md) run as non-root with a read-only root filesystem, no
// privilege escalation, every capability dropped and seccomp RuntimeDefault; they get only a
// projected ServiceAccount token with audience `shardwise` (rotated by the kubelet) and, when
// the operator serves HTTPS, its CA from a ConfigMap.
//   ScrapeShard <pool>-<shard>               one per shard; status kept live from reports
// Every object carries an ownerReference to the pool (controller=true), so deleting the
// pool garbage-collects them.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "operator/pool/pool_spec.h"

namespace shardwise::pool {

inline constexpr char kFieldManager[] = "shardwise-operator";
inline constexpr char kPoolLabel[] = "shardwise.io/pool";
inline constexpr char kReplicaLabel[] = "shardwise.io/replica";
inline constexpr char kShardLabel[] = "shardwise.io/shard";
inline constexpr int kScraperPort = 9091;

struct OperatorSettings {
  std::string operator_url;  // how scrapers reach the discovery endpoint
  std::string default_image = "shardwise/scraper:0.1.0";
  int termination_grace_period_seconds = 120;  // time to drain remote write on scale-down
  // ConfigMap (in the pool's namespace) whose key ca.crt holds the CA of the operator's
  // serving certificate; "" when the operator serves plain HTTP.
  std::string operator_ca_config_map;
  int64_t token_expiration_seconds = 3600;  // the projected token's lifetime (kubelet rotates)
};

// Where scraper pods find the projected token and the operator's CA.
inline constexpr char kOperatorCredentialsDir[] = "/var/run/secrets/shardwise.io/operator";
inline constexpr char kTokenAudience[] = "shardwise";

nlohmann::json OwnerReference(const PoolSpec& pool);
// The label selector of the pool's scraper pods, "shardwise.io/pool=<name>" (scale subresource).
std::string PodSelector(const PoolSpec& pool);

nlohmann::json BuildStatefulSet(const PoolSpec& pool, int replica, int pods,
                                const OperatorSettings& settings);
nlohmann::json BuildService(const PoolSpec& pool);
nlohmann::json BuildServiceAccount(const PoolSpec& pool);
nlohmann::json BuildPodDisruptionBudget(const PoolSpec& pool);
nlohmann::json BuildScrapeShard(const PoolSpec& pool, int shard);
std::string ScrapeShardName(const std::string& pool, int shard);
// The scraper's config file: Prometheus YAML with global.external_labels and remote_write,
// Secret references turned into files under /etc/shardwise/secrets/<secret>/<key>.
std::string BuildScraperConfig(const PoolSpec& pool);
// The same remote_write list as JSON, for the plans: running scrapers apply changes to it
// without a restart (the config file only counts at startup).
nlohmann::json RemoteWritePlanConfig(const PoolSpec& pool);
nlohmann::json BuildConfigMap(const PoolSpec& pool);

}  // namespace shardwise::pool
