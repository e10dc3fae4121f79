// ScrapeLoop: scrapes one target every interval, on the shared Scheduler (no thread of its
// own). Each tick starts an async request on the shared http::Client; the response is
// parsed and appended on a scheduler worker by the loop's Ingester.
//
// Timing: the first scrape happens at the target's phase within the interval, derived from
// its hash (like Prometheus's offset), so a fleet of targets spreads evenly and a target
// keeps its phase across restarts and processes. A tick that finds the previous scrape
// still running is skipped (counted). The request carries the scrape timeout, the Accept
// header of parse/parser.h, gzip, keep-alive, body_size_limit, TLS and auth; credential
// files are re-read on every scrape so rotated secrets work.
//
// Timestamps: samples are stamped with the scrape's start, snapped to the loop's grid
// (first start + n * interval) when within min(2 ms, interval / 100) of a grid point, as
// Prometheus does since 2.36 (scrape.timestamp-tolerance). Timer and scheduling jitter of a
// millisecond or two would otherwise make every delta-of-delta non-zero and roughly triple
// the head's bytes per sample (docs/benchmarks-tsdb.md).
//
// Connections: the shared http::Client keeps each target's keep-alive connection for the
// next scrape. Failures are logged once per change of state (HealthLog), not per scrape.
//
// Stop(stale_markers): no scrape is ingested after it returns, and a request in flight is
// cancelled (its connection closed) rather than left to run into the scrape timeout against
// a target another scraper now owns. With stale_markers, every
// series of the last scrape and the report series get staleness markers; without (a target
// handed to another scraper), the loop lets go silently. A loop that never forwarded a
// scrape has nothing to mark stale and writes nothing.
//
// Forwarding (forward_gate.h): with gates, a scrape is ingested only when the gate forwards
// its phase point — the point of the target's phase grid nearest the scrape's timestamp,
// the same instant on every scraper scraping the target. Other scrapes are fetched (they
// count as successes for the handoff's confirmation) but nothing of them is stored.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/http/client.h"
#include "common/relabel/relabeler.h"
#include "scraper/scrape/config.h"
#include "scraper/scrape/forward_gate.h"
#include "scraper/scrape/health_log.h"
#include "scraper/scrape/ingester.h"
#include "scraper/scrape/scheduler.h"
#include "scraper/scrape/target.h"
#include "scraper/storage/appender.h"

namespace shardwise::scrape {

// What a status page shows about one target (Prometheus's /api/v1/targets fields).
struct TargetStatus {
  Target target;
  std::string health = "unknown";  // "up", "down", "unknown" (not scraped yet)
  std::string last_error;
  std::chrono::system_clock::time_point last_scrape{};
  std::chrono::system_clock::time_point last_success{};  // epoch when never
  double last_scrape_duration = 0;                       // seconds
  size_t last_samples = 0;                               // samples ingested by the last scrape
  size_t series = 0;                                     // series of the last successful scrape
};

class ScrapeLoop : public std::enable_shared_from_this<ScrapeLoop> {
 public:
  // The loop keeps `scheduler` alive; `client` and `storage` must outlive Stop().
  ScrapeLoop(Target target, const ScrapeConfig& config, relabel::Relabeler metric_relabeler,
             std::shared_ptr<Scheduler> scheduler, http::Client& client,
             storage::Appendable& storage, uint64_t jitter_seed = 0,
             std::shared_ptr<const ForwardGates> gates = nullptr);
  ~ScrapeLoop();

  void Start();
  void Stop(bool stale_markers);

  // Scrapes once, now, on the calling thread (tests, benchmarks). Not with Start().
  IngestResult ScrapeOnce();

  TargetStatus Snapshot() const;
  // The target's metric metadata (# TYPE/HELP/UNIT), ordered by family.
  std::vector<storage::MetricMetadata> Metadata() const;
  const Target& target() const { return target_; }
  uint64_t config_fingerprint() const { return config_.fingerprint; }
  // Delay from `now` to the target's next phase point (exposed for tests).
  static std::chrono::nanoseconds Offset(uint64_t hash, std::chrono::milliseconds interval,
                                         std::chrono::system_clock::time_point now);
  // The point of the phase grid of (hash, interval) nearest `ts_ms` (what Offset schedules).
  static int64_t PhasePointMs(uint64_t hash, std::chrono::milliseconds interval, int64_t ts_ms);
  // The timestamp for a scrape starting at `now` on the grid whose last used point is
  // `*grid` (epoch: no grid yet; it starts at `now`): the grid point nearest `now` when
  // within the tolerance, else `now`. Moves `*grid` to the point used, and re-anchors it at
  // `now` when the clock went back before it (exposed for tests).
  static std::chrono::system_clock::time_point AlignScrapeTime(
      std::chrono::system_clock::time_point now, std::chrono::milliseconds interval,
      std::chrono::system_clock::time_point* grid);

 private:
  Result<http::ClientRequest> BuildRequest() const;
  void Tick(Scheduler::Clock::time_point scheduled);
  void ScheduleTick(Scheduler::Clock::time_point when);
  IngestResult Finish(Result<http::ClientResponse> response,
                      std::chrono::system_clock::time_point start, double seconds);

  const Target target_;
  const ScrapeConfig config_;
  const std::shared_ptr<Scheduler> scheduler_;
  http::Client& client_;
  const uint64_t jitter_seed_;
  const std::shared_ptr<const ForwardGates> gates_;
  const std::string job_;

  mutable std::mutex mu_;  // guards everything below; held while ingesting
  Ingester ingester_;
  bool started_ = false;
  bool stopped_ = false;
  bool in_flight_ = false;
  // The scheduled scrape's request while in flight, for Stop to cancel; scrapes_ numbers
  // the scheduled scrapes, so a late id is never taken for a newer scrape's.
  std::optional<http::Client::StreamId> request_;
  uint64_t scrapes_ = 0;
  bool forwarded_ = false;      // some scrape reached storage: stopping may need staleness markers
  size_t last_body_bytes_ = 0;  // of the last 200 response: the next body's reservation
  std::chrono::system_clock::time_point timestamp_grid_{};  // see AlignScrapeTime
  TargetStatus status_;
  HealthLog health_log_;
  size_t reported_cache_size_ = 0;  // this loop's share of the cache_series gauge
};

}  // namespace shardwise::scrape
