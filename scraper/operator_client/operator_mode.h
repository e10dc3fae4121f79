// OperatorMode: the scraper run by the operator. Wires PlanClient (long-polls the plan,
// persists it, falls back to the last one on disk), PlanApplier (plan → scrape jobs) and
// LoadReporter (load reports / heartbeat) around the caller's ScrapeManager and client:
//
//   OperatorMode mode(options, manager, client);
//   SHARDWISE_RETURN_IF_ERROR(mode.Start());
//   ...
//   mode.Stop();  // before the manager and client go away
//
// Options::FromEnvironment fills the pod identity from POD_NAMESPACE and POD_NAME (the
// downward API), as the operator's StatefulSets set them.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/http/client.h"
#include "common/http/client_config.h"
#include "common/status.h"
#include "scraper/operator_client/load_reporter.h"
#include "scraper/operator_client/plan_applier.h"
#include "scraper/operator_client/plan_client.h"
#include "scraper/scrape/config.h"
#include "scraper/scrape/scrape_manager.h"

namespace shardwise::opclient {

struct OperatorModeOptions {
  std::string operator_url;  // http(s)://host:port of the operator's discovery endpoint
  std::string pod_namespace;
  std::string pod_name;
  std::string data_dir;  // operator/plan.json lives here
  std::chrono::milliseconds plan_wait{std::chrono::seconds(30)};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(30)};
  std::chrono::milliseconds report_interval{std::chrono::seconds(5)};
  double scrape_slots = 2;     // see LoadReporter::Options
  scrape::Config base_config;  // jobs scraped besides the plan's (may be empty)
  std::function<double()> remote_write_lag_seconds;  // optional
  // Optional: called after each plan is applied (e.g. to hand plan.external_labels to
  // remote write). Runs on the plan client's thread; keep it short.
  std::function<void(const plan::ScrapePlan&)> on_plan_applied;
  // The operator's CA (https URLs) and the ServiceAccount token file the scraper
  // authenticates with (docs/security.md).
  http::HttpClientConfig http;

  // Sets pod_namespace/pod_name from POD_NAMESPACE/POD_NAME where they are empty.
  void FromEnvironment();
  Status Validate() const;
};

class OperatorMode {
 public:
  OperatorMode(OperatorModeOptions options, scrape::ScrapeManager& manager, http::Client& client);
  ~OperatorMode();
  OperatorMode(const OperatorMode&) = delete;
  OperatorMode& operator=(const OperatorMode&) = delete;

  Status Start();
  void Stop();

  const PlanClient& plan_client() const { return *plan_client_; }
  const PlanApplier& applier() const { return applier_; }
  LoadReporter& reporter() { return *reporter_; }

 private:
  const OperatorModeOptions options_;
  PlanApplier applier_;
  std::unique_ptr<PlanClient> plan_client_;
  std::unique_ptr<LoadReporter> reporter_;
  bool started_ = false;
};

}  // namespace shardwise::opclient
