// ScrapeManager: the scraper's top-level scrape API. Owns one ScrapePool per job, the
// target sources of each job (static, file_sd, http_sd) and the shared Scheduler.
//
//   ScrapeManager manager(ScrapeManager::Options{}, storage, http_client);
//   Status st = manager.ApplyConfig(config);  // again on every reload
//   server.HandleExact("/api/v1/targets", ... manager.TargetsJson() ...);
//   manager.Stop();                           // before storage and client go away
//
// ApplyConfig: only what changed is touched. Changed scrape settings (ScrapeConfig::
// fingerprint) restart the job's loops; changed file_sd/http_sd configs restart those
// sources; changed static_configs start and stop only the targets that differ; removed
// jobs stop (with staleness markers). Targets can also be pushed directly (UpdateTargets),
// e.g. from the operator's scrape plan, through the same path; such sources survive
// reloads of their job.
//
// Handoff: MarkHandoff(hash) makes the target's loop stop without staleness markers when
// the target next disappears (the new owner is already scraping it). forward_gates() says
// which scrapes of a target being handed over are stored (forward_gate.h).
//
// Stop() writes no staleness markers: Prometheus writes none at shutdown, and a scraper
// that restarts, or whose targets another scraper takes over, continues the series.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/http/client.h"
#include "scraper/discovery/source.h"
#include "scraper/scrape/config.h"
#include "scraper/scrape/forward_gate.h"
#include "scraper/scrape/scheduler.h"
#include "scraper/scrape/scrape_pool.h"
#include "scraper/storage/appender.h"

namespace shardwise::scrape {

class ScrapeManager {
 public:
  struct Options {
    size_t worker_threads = 2;  // parse + append
    // Mixed into every target's phase so that HA replicas scrape at different instants.
    uint64_t jitter_seed = 0;
    std::chrono::milliseconds file_sd_poll_interval{std::chrono::seconds(1)};
  };

  ScrapeManager(Options options, storage::Appendable& storage, http::Client& client);
  ~ScrapeManager();
  ScrapeManager(const ScrapeManager&) = delete;
  ScrapeManager& operator=(const ScrapeManager&) = delete;

  // Validates the whole config first (relabel rules compile); on error nothing changes.
  Status ApplyConfig(const Config& config);
  // Replaces the groups that `source` reports for `job` (the job must be configured).
  Status UpdateTargets(const std::string& job, const std::string& source,
                       std::vector<sd::TargetGroup> groups);
  void MarkHandoff(uint64_t target_hash);
  ForwardGates& forward_gates() { return *gates_; }
  // Stops every source and loop (without staleness markers) and the scheduler.
  void Stop();

  std::vector<TargetStatus> ActiveTargets() const;
  std::vector<DroppedTarget> DroppedTargets() const;
  // The metadata of every active target, without duplicates (equal family, type, help and
  // unit), ordered: what Prometheus's remote write sends under metadata_config.
  std::vector<storage::MetricMetadata> MetadataList() const;
  // Prometheus's /api/v1/targets response body:
  // {"status":"success","data":{"activeTargets":[...],"droppedTargets":[...]}}
  // Each active target also carries "seriesCount" and "targetHash" (hex).
  std::string TargetsJson() const;

  // For tests: the loop scraping a target, and how many loops a job has started so far.
  std::shared_ptr<ScrapeLoop> Loop(const std::string& job, uint64_t hash) const;
  size_t LoopsStarted(const std::string& job) const;

 private:
  struct Job {
    ScrapeConfig config;
    std::unique_ptr<ScrapePool> pool;
    std::vector<std::unique_ptr<sd::TargetSource>> sources;
  };
  void StartSources(Job& job);
  static void StopSources(Job& job);

  const Options options_;
  storage::Appendable& storage_;
  http::Client& client_;
  std::shared_ptr<Scheduler> scheduler_;
  const std::shared_ptr<ForwardGates> gates_ = std::make_shared<ForwardGates>();

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Job>> jobs_;
  bool stopped_ = false;

  std::mutex handoff_mu_;
  std::set<uint64_t> handoff_;  // consumed when the target's loop stops
};

}  // namespace shardwise::scrape
