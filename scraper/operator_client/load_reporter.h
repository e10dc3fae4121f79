// LoadReporter: every `interval` POSTs this scraper's LoadReport to
//   <operator>/api/v1/reports/<namespace>/<pod>            (204 expected)
// built from the scrape manager's active targets. The report is also the heartbeat, so it
// is sent even with no plan. A failed POST is logged (at most once a minute, plus the
// recovery) and simply retried at the next tick.
//
// Contents (docs/discovery-protocol.md):
//   targets, active_series    plan targets running here and the series of their last
//                             successful scrapes
//   samples_per_second        samples scraped by the plan's jobs per second over the last
//                             minute, or four of the longest scrape interval when longer
//                             (shardwise_scrape_samples_scraped_total deltas; SampleRate)
//   scrape_errors             failed scrapes of the plan's jobs since the last report
//   saturation                Σ(last scrape duration / interval) over targets, divided by
//                             `scrape_slots` and capped at 1: the share of the scrape time
//                             budget in use
//   remote_write_lag_seconds  from the optional provider
//   per_target                plan id, series, last success (unix ms), last error, and the
//                             handoff mark and cutover the target runs with
//   plan_error                why the newest plan failed to apply (it is retried)
// Only targets that came from the plan are reported. Poke() sends the next report at once
// (after a plan is applied, so the operator learns the new state without waiting).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "common/http/client.h"
#include "common/http/client_config.h"
#include "common/plan/plan.h"
#include "scraper/operator_client/plan_applier.h"
#include "scraper/operator_client/sample_rate.h"
#include "scraper/scrape/scrape_manager.h"

namespace shardwise::opclient {

class LoadReporter {
 public:
  struct Options {
    std::string operator_url;
    std::string pod_namespace;
    std::string pod_name;
    std::chrono::milliseconds interval{std::chrono::seconds(5)};
    double scrape_slots = 2;  // concurrent scrapes the budget allows (worker threads)
    std::function<double()> remote_write_lag_seconds;  // optional
    // The pod's memory limit; 0 = read the cgroup's memory.max (unknown when unlimited).
    double memory_limit_bytes = 0;
    http::HttpClientConfig http;  // see PlanClient::Options::http
  };

  LoadReporter(Options options, const scrape::ScrapeManager& manager, const PlanApplier& applier,
               http::Client& client);
  ~LoadReporter();
  LoadReporter(const LoadReporter&) = delete;
  LoadReporter& operator=(const LoadReporter&) = delete;

  // Sends the first report right away, then every interval.
  void Start();
  void Stop();
  void Poke();

  // Builds the next report, advancing the delta baselines (samples, errors).
  plan::LoadReport BuildReport();
  // Builds and sends one report.
  Status SendOnce();
  uint64_t reports_sent() const;

 private:
  void Run();

  const Options options_;
  const scrape::ScrapeManager& manager_;
  const PlanApplier& applier_;
  http::Client& client_;

  std::mutex build_mu_;  // guards the baselines below
  std::chrono::steady_clock::time_point last_report_{};
  std::map<std::string, double> samples_baseline_;  // by scrape job
  SampleRate sample_rate_;
  std::map<std::string, double> failures_baseline_;
  std::map<std::string, double> skipped_baseline_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool poked_ = false;
  uint64_t sent_ = 0;
  bool failing_ = false;
  std::chrono::steady_clock::time_point last_failure_log_{};
  std::thread thread_;
};

}  // namespace shardwise::opclient
