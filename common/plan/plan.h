// The discovery protocol between the operator and its scrapers (docs/discovery-protocol.md).
//
// A ScrapePlan is everything one scraper pod must scrape: each target with its final labels
// and every scrape parameter, plus a handoff mark. A LoadReport is what the scraper sends
// back: its totals and per-target series counts and last successful scrape; it is also the
// scraper's heartbeat. Both travel as JSON; 64-bit target ids are hex strings so that JSON
// number precision never bites.
//
// Handoff marks (make-before-break, see operator/assign/assignment.h):
//   kNone     — an ordinary target.
//   kOutgoing — this scraper still scrapes the target while its new owner starts. When the
//               target later leaves the plan the scraper stops it WITHOUT staleness markers
//               (the new owner continues the series).
//   kIncoming — this scraper is the new owner; the operator waits for its report of a
//               successful scrape before releasing the old owner.
// Released targets: `released` lists the targets that left this shard recently while they
// are still discovered (they moved to another shard; see operator/pool/released_targets.h).
// A scraper stops a target that leaves its plan WITHOUT staleness markers when the plan
// lists it there or the previous plan it applied marked it outgoing; only a target that left
// discovery ends with markers, as in Prometheus. Plans are long-polled, so a scraper may
// never apply the generation that marked a target outgoing; the list makes the move visible
// anyway. Absent (an older operator): empty.
// Forwarding during a handoff (no duplicates): an incoming target is scraped but its samples
// are forwarded (committed to storage) only from `cutover_unix_ms` on, and an outgoing one
// only before it; without a cutover (0) an incoming target forwards nothing and an outgoing
// one everything. Both owners scrape at the same phase, so exactly one of them forwards each
// scrape.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/labels.h"
#include "common/status.h"

namespace shardwise::plan {

enum class Handoff { kNone, kOutgoing, kIncoming };

struct TlsConfig {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
  std::string server_name;
  bool insecure_skip_verify = false;
  bool operator==(const TlsConfig&) const = default;
};

struct AuthConfig {
  std::string bearer_token;
  std::string basic_username;
  std::string basic_password;
  bool operator==(const AuthConfig&) const = default;
};

struct Target {
  uint64_t id = 0;
  std::string job;
  Labels labels;  // final target labels (job, instance, namespace, ...), no "__" labels
  std::string scheme = "http";
  std::string address;  // host:port
  std::string path = "/metrics";
  std::map<std::string, std::vector<std::string>> params;
  std::chrono::milliseconds interval{30000};
  std::chrono::milliseconds timeout{10000};
  bool honor_labels = false;
  bool honor_timestamps = true;
  uint64_t sample_limit = 0;
  uint64_t label_limit = 0;
  uint64_t label_name_length_limit = 0;
  uint64_t label_value_length_limit = 0;
  uint64_t body_size_limit = 0;
  nlohmann::json metric_relabelings = nlohmann::json::array();  // Prometheus Operator form
  std::optional<TlsConfig> tls;
  std::optional<AuthConfig> auth;
  Handoff handoff = Handoff::kNone;
  int64_t cutover_unix_ms = 0;  // with a handoff mark: where forwarding switches owner

  // scheme://address/path?params
  std::string Url() const;
  bool operator==(const Target&) const = default;
};

struct ScrapePlan {
  std::string pool_namespace;
  std::string pool;
  int shard = 0;
  int replica = 0;
  uint64_t generation = 0;
  Labels external_labels;
  // The pool's remote-write endpoints in Prometheus's remote_write shape (the list of the
  // scraper config file, as JSON); the scraper reconfigures its queues to match without a
  // restart. Absent: keep the endpoints of the config file.
  std::optional<nlohmann::json> remote_write;
  std::vector<Target> targets;     // sorted by id
  std::vector<uint64_t> released;  // sorted ids: moved away recently, stop silently
  bool operator==(const ScrapePlan&) const = default;
};

struct TargetLoad {
  uint64_t id = 0;
  double series = 0;                 // series in the last successful scrape
  int64_t last_success_unix_ms = 0;  // 0 = never
  std::string last_error;
  // The handoff mark and cutover this scraper runs the target with, so a new operator
  // leader can rebuild placement and handoffs in flight from the reports.
  Handoff handoff = Handoff::kNone;
  int64_t cutover_unix_ms = 0;
};

struct LoadReport {
  std::string pod;
  int shard = 0;
  int replica = 0;
  uint64_t plan_generation = 0;
  uint64_t targets = 0;
  double active_series = 0;
  double samples_per_second = 0;
  uint64_t scrape_errors = 0;  // failed scrapes in the last report interval
  double remote_write_lag_seconds = 0;
  double saturation = 0;  // 0..1: share of the scrape budget used
  uint64_t skipped_ticks =
      0;                    // scrape ticks skipped (previous scrape still running), last interval
  double memory_bytes = 0;  // the scraper's resident memory
  double memory_limit_bytes = 0;  // its pod's memory limit; 0 = unknown
  std::vector<TargetLoad> per_target;
  // Why the newest plan the scraper received could not be applied ("" = applied; it then
  // runs plan_generation). The scraper retries with backoff.
  std::string plan_error;
  uint64_t failed_plan_generation = 0;
};

std::string_view HandoffName(Handoff h);
std::string TargetIdHex(uint64_t id);
Result<uint64_t> ParseTargetId(std::string_view hex);

nlohmann::json ToJson(const ScrapePlan& plan);
Result<ScrapePlan> PlanFromJson(const nlohmann::json& j);
nlohmann::json ToJson(const LoadReport& report);
Result<LoadReport> ReportFromJson(const nlohmann::json& j);

// The Prometheus http_sd view of a plan: one target group per target, with __scheme__,
// __metrics_path__, __scrape_interval__, __scrape_timeout__ and __param_<name> labels, so a
// stock Prometheus, vmagent or OpenTelemetry Collector can act as the shard.
nlohmann::json ToHttpSd(const ScrapePlan& plan);

}  // namespace shardwise::plan
