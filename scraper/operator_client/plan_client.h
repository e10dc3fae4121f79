// PlanClient: keeps this scraper's ScrapePlan current by long-polling the operator's
// discovery endpoint (docs/discovery-protocol.md):
//
//   GET <operator>/api/v1/plans/<namespace>/<pod>?wait=30s   If-None-Match: "<generation>"
//
// 200 brings a new plan: it is validated (ValidatePlan), persisted atomically to
// <data dir>/plan.json and handed to `on_plan`; 304 means unchanged; 404 means the operator
// has no plan for this pod yet. Errors (network, 5xx, invalid plans) back off exponentially
// with full jitter, capped at `max_backoff`.
//
// Start-up: when the first request fails (operator unreachable, or no plan yet), the plan
// persisted by a previous run is handed over instead, so the scraper keeps scraping it; the
// plan counts as stale (gauge shardwise_operator_plan_stale = 1) until the operator is
// reached again. The poll then asks with that plan's generation, so an unchanged plan is
// not applied twice.
//
// `on_plan` runs on the client's own thread, one call at a time; its error is logged and
// counted, and the plan is still the client's current one (the next plan retries).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/http/client.h"
#include "common/http/client_config.h"
#include "common/plan/plan.h"
#include "common/status.h"

namespace shardwise::opclient {

class PlanClient {
 public:
  struct Options {
    std::string operator_url;  // e.g. "http://shardwise-operator.monitoring:8080"
    std::string pod_namespace;
    std::string pod_name;
    std::string data_dir;
    std::chrono::milliseconds wait{std::chrono::seconds(30)};  // long-poll wait
    std::chrono::milliseconds min_backoff{std::chrono::milliseconds(500)};
    std::chrono::milliseconds max_backoff{std::chrono::seconds(30)};
    // How to reach the operator: the CA of its serving certificate and the ServiceAccount
    // token (a file re-read when the kubelet rotates it), applied to every request.
    http::HttpClientConfig http;
  };
  using PlanCallback = std::function<Status(const plan::ScrapePlan&)>;

  PlanClient(Options options, http::Client& client, PlanCallback on_plan);
  ~PlanClient();
  PlanClient(const PlanClient&) = delete;
  PlanClient& operator=(const PlanClient&) = delete;

  void Start();
  // Cancels the request in flight and joins the thread. `on_plan` is not called after.
  void Stop();

  std::optional<plan::ScrapePlan> Current() const;
  // True while the current plan came from disk or the operator is unreachable.
  bool stale() const { return stale_.load(); }
  // Plans handed to on_plan so far (from disk or the operator).
  uint64_t plans_delivered() const { return delivered_.load(); }

 private:
  enum class Outcome { kNewPlan, kUnchanged, kNoPlan, kFailed };
  void Run();
  Outcome PollOnce(bool first);
  // Applies `plan`; only an applied plan becomes current, so a failed one is fetched and
  // applied again after a backoff (the operator sees the error in the load report).
  bool Deliver(plan::ScrapePlan plan, bool from_disk);
  bool LoadFromDisk();
  // Waits `d` unless stopping; returns false when stopping.
  bool SleepFor(std::chrono::milliseconds d);
  std::chrono::milliseconds NextBackoff();

  const Options options_;
  http::Client& client_;
  const PlanCallback on_plan_;

  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::optional<http::Client::StreamId> in_flight_;
  std::optional<plan::ScrapePlan> current_;
  int failures_ = 0;
  std::thread thread_;
  std::atomic<bool> stale_{false};
  std::atomic<uint64_t> delivered_{0};
};

}  // namespace shardwise::opclient
