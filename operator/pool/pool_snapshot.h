// PoolSnapshot: what the pool controller knew about one ScrapePool at the end of its last
// reconcile — shards with their load, targets with their owner, handoffs in flight, monitors
// and their validity, the autoscaler's status — plus a bounded history of shard counts and
// load for the autoscaler chart. Read by the operator's web UI (operator/ui); filled only
// from in-memory state, so serving a page never calls the Kubernetes API.
//
// SnapshotStore is the hand-over point: the controller Publish()es after each reconcile
// that got as far as assigning targets; readers get immutable shared copies (no lock held
// while rendering). History: one point per Publish at most every `history_step`, the last
// `history_points` kept (defaults: 5 s, 720 points = one hour).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace shardwise::pool {

struct ShardSnapshot {
  int index = 0;
  std::string phase;  // Pending, Active, Draining, Lost
  std::vector<std::string> pods;
  int replicas_alive = 0;
  uint64_t targets = 0;      // owned
  uint64_t handing_off = 0;  // still scraped for a handoff
  double assigned_weight = 0;
  // From the freshest live replica's report; absent for a Lost shard (no load is shown for
  // a shard nobody hears from) and before the first report.
  bool has_load = false;
  double series = 0;
  double samples_per_second = 0;
  double saturation = 0;
  double remote_write_lag_seconds = 0;
  std::optional<std::chrono::system_clock::time_point> last_report;
  std::string ready_reason, ready_message;  // the Ready condition's
  std::string plan_error;
};

struct TargetSnapshot {
  uint64_t id = 0;
  std::string job;
  std::string address;
  std::string labels;  // {a="b", ...}
  int owner = -1;      // shard; -1 unassigned
  double weight = 0;
  // From the owner's latest report (live replicas only).
  double series = -1;  // -1: not scraped yet
  int64_t last_success_unix_ms = 0;
  std::string last_error;
};

struct HandoffSnapshot {
  uint64_t target = 0;
  int from = -1, to = -1;
  std::chrono::system_clock::time_point since;
  std::optional<std::chrono::system_clock::time_point> cutover;
};

struct MonitorSnapshot {
  std::string kind;  // ServiceMonitor, PodMonitor
  std::string ns, name;
  bool valid = true;
  std::string message;  // why not valid
  uint64_t targets = 0;
};

struct HistoryPoint {
  std::chrono::system_clock::time_point at;
  int shards = 0;          // shards that exist (scraper StatefulSet ordinals)
  int desired_shards = 0;  // .spec.shards
  int ready_shards = 0;
  double series = 0, samples_per_second = 0;
  std::string decision;  // non-empty when the autoscaler changed .spec.shards here
};

struct PoolSnapshot {
  std::string ns, name;
  std::chrono::system_clock::time_point taken;
  int desired_shards = 0;
  int shard_count = 0;
  int replicas_per_shard = 1;
  std::string autoscaling_mode;  // Off, Operator, HPA
  int min_shards = 0, max_shards = 0;
  double target_series_per_shard = 0;
  double target_samples_per_second_per_shard = 0;
  double series = 0, samples_per_second = 0;
  int ready = 0, lost = 0, draining = 0, pending = 0;
  std::vector<ShardSnapshot> shards;
  std::vector<TargetSnapshot> targets;  // sorted by owner, then job, then address
  std::vector<HandoffSnapshot> handoffs;
  std::vector<MonitorSnapshot> monitors;
  nlohmann::json conditions = nlohmann::json::array();  // as written to status
  nlohmann::json autoscaling;                           // status.autoscaling; null when Off
  std::vector<HistoryPoint> history;                    // filled by SnapshotStore
};

class SnapshotStore {
 public:
  struct Options {
    std::chrono::milliseconds history_step{std::chrono::seconds(5)};
    size_t history_points = 720;
  };
  SnapshotStore() : SnapshotStore(Options{}) {}
  explicit SnapshotStore(Options options) : options_(options) {}

  // Replaces the pool's snapshot and appends a history point (skipped when the last one is
  // less than history_step old, unless `decision` is set).
  void Publish(PoolSnapshot snapshot, const std::string& decision = "");
  void Remove(const std::string& ns, const std::string& name);
  std::vector<std::shared_ptr<const PoolSnapshot>> List() const;  // sorted by ns/name
  std::shared_ptr<const PoolSnapshot> Get(const std::string& ns, const std::string& name) const;

 private:
  struct Entry {
    std::shared_ptr<const PoolSnapshot> latest;
    std::deque<HistoryPoint> history;
  };
  Options options_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Entry> pools_;
};

}  // namespace shardwise::pool
