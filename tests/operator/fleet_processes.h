// The shardwise binaries of this build directory as plain processes on loopback, for tests
// that play the cluster's part themselves (no kubelet): the operator against a kubeconfig,
// and scrapers standing in for the pods of a pool's StatefulSet. Shared by
// tests/operator/operator_e2e_test.cc and tests/e2e/autoscale_e2e_test.cc.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/http/client.h"
#include "tests/kubectl/command_runner.h"

namespace shardwise::testing {

struct OperatorProcessOptions {
  std::string kubeconfig;
  // The web, readiness and discovery endpoint listen on 127.0.0.1:port; scrapers are told
  // the same URL (--operator-url), so a restarted operator keeps it.
  int port = 0;
  std::string heartbeat_timeout = "30s";
  std::string rebuild_wait = "10s";
  // Further flags, appended as given (e.g. "--custom-metrics.listen-address=").
  std::vector<std::string> extra_flags;
};

// shardwise-operator leading in namespace monitoring, with short resync and lease periods
// and without scraper authentication (plain processes have no projected tokens).
std::unique_ptr<BackgroundCommand> StartOperatorProcess(const OperatorProcessOptions& o);

struct ScraperProcessOptions {
  int port = 0;           // its /metrics and /api/v1/targets on 127.0.0.1:port
  int operator_port = 0;  // the operator's 127.0.0.1 port
  std::string data_dir;   // --storage.tsdb.path
  std::string pod_name;   // POD_NAME, as the StatefulSet sets it: shardwise-<pool>-<set>-<ordinal>
  std::string pod_namespace = "monitoring";
  std::vector<std::string> extra_flags;
};

// shardwise-scraper in operator mode, reporting its load every second.
std::unique_ptr<BackgroundCommand> StartScraperProcess(const ScraperProcessOptions& o);

// The instance labels of the targets a scraper on 127.0.0.1:`port` reports healthy (up) in
// /api/v1/targets; empty when it does not answer.
std::set<std::string> HealthyTargets(http::Client& client, int port);

// When each loopback target was scraped, by any scraper; the longest time any target went
// unscraped is what the handoff and failover tests assert (in scrape intervals). Thread-safe:
// targets record from their server threads.
class ScrapeLog {
 public:
  void Record(int target);
  // The longest gap between consecutive scrapes of any recorded target within
  // [since, until], counting from `since` and up to `until`.
  std::chrono::milliseconds LongestGap(std::chrono::steady_clock::time_point since,
                                       std::chrono::steady_clock::time_point until) const;

 private:
  mutable std::mutex mu_;
  std::map<int, std::vector<std::chrono::steady_clock::time_point>> scrapes_;
};

}  // namespace shardwise::testing
