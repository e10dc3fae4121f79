// ScrapePool: the loops of one job. Holds the job's current target groups per source,
// builds targets from them (target relabeling) and keeps exactly one loop per distinct
// target (by identity hash). A sync starts loops for new targets, stops loops for vanished
// ones and restarts only the loops whose target changed (labels, interval, timeout) or
// whose job configuration changed. Every other loop keeps running untouched, with its cache.
//
// Stopping a loop writes staleness markers unless `silent(hash)` says the target was handed
// over to another scraper. A loop restarted with unchanged labels stops silently too: its
// replacement continues the same series. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/http/client.h"
#include "common/relabel/relabeler.h"
#include "scraper/discovery/target_group.h"
#include "scraper/scrape/config.h"
#include "scraper/scrape/scheduler.h"
#include "scraper/scrape/scrape_loop.h"
#include "scraper/storage/appender.h"

namespace shardwise::scrape {

struct DroppedTarget {
  std::string job;
  Labels discovered_labels;
  std::string reason;  // "" when relabeling dropped it; else why the target was unusable
};

class ScrapePool {
 public:
  struct Deps {
    std::shared_ptr<Scheduler> scheduler;
    http::Client* client = nullptr;
    storage::Appendable* storage = nullptr;
    uint64_t jitter_seed = 0;
    std::function<bool(uint64_t)> silent;       // no staleness when this target stops
    std::shared_ptr<const ForwardGates> gates;  // optional, see forward_gate.h
  };

  // Fails when the config's relabel rules do not compile.
  static Result<std::unique_ptr<ScrapePool>> New(const ScrapeConfig& config, Deps deps);
  ~ScrapePool();

  // A new configuration of the same job: re-applies it to the current groups, with the
  // groups of `source` replaced by `groups` in the same sync when given.
  Status Reload(const ScrapeConfig& config, const std::string& source = "",
                std::optional<std::vector<sd::TargetGroup>> groups = std::nullopt);
  // Replaces the groups of one source and syncs the loops.
  void SetGroups(const std::string& source, std::vector<sd::TargetGroup> groups);
  // Forgets the groups of configured sources ("file_sd/<i>", "http_sd/<i>") not in `keep`
  // (a reload removed them); sources pushed through UpdateTargets stay. Syncs.
  void RetainSources(const std::vector<std::string>& keep);
  // Stops every loop; with stale_markers=false (shutdown) none writes staleness markers.
  void Stop(bool stale_markers = true);

  std::vector<TargetStatus> Active() const;
  // Calls fn(metadata list) for each active target.
  void ForEachMetadata(
      const std::function<void(const std::vector<storage::MetricMetadata>&)>& fn) const;
  std::vector<DroppedTarget> Dropped() const;
  std::shared_ptr<ScrapeLoop> Loop(uint64_t hash) const;
  size_t loops_started() const;
  const std::string& job() const { return job_; }

 private:
  ScrapePool(std::string job, Deps deps) : job_(std::move(job)), deps_(std::move(deps)) {}
  Status Configure(const ScrapeConfig& config);
  void SyncLocked();
  void StopLoop(const std::shared_ptr<ScrapeLoop>& loop, bool labels_unchanged);

  const std::string job_;
  const Deps deps_;
  mutable std::mutex mu_;
  ScrapeConfig config_;
  relabel::Relabeler target_relabeler_;
  relabel::Relabeler metric_relabeler_;
  std::map<std::string, std::vector<sd::TargetGroup>> groups_;  // by source
  std::map<uint64_t, std::shared_ptr<ScrapeLoop>> loops_;
  std::vector<DroppedTarget> dropped_;
  size_t loops_started_ = 0;
  bool stopped_ = false;
};

}  // namespace shardwise::scrape
