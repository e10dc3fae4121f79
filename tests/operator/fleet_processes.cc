#include "tests/operator/fleet_processes.h"

#include <nlohmann/json.hpp>

namespace shardwise::testing {
namespace {

std::string Binary(const std::string& relative) {
  return std::string(SHARDWISE_BINARY_DIR) + "/" + relative;
}

std::string Loopback(int port) { return "127.0.0.1:" + std::to_string(port); }

}  // namespace

std::unique_ptr<BackgroundCommand> StartOperatorProcess(const OperatorProcessOptions& o) {
  std::vector<std::string> argv{
      Binary("operator/shardwise-operator"),        "--kubeconfig=" + o.kubeconfig,
      "--web.listen-address=" + Loopback(o.port),   "--operator-url=http://" + Loopback(o.port),
      "--leader-election.namespace=monitoring",     "--resync=1s",
      "--heartbeat-timeout=" + o.heartbeat_timeout, "--rebuild-wait=" + o.rebuild_wait,
      "--leader-election.lease-duration=2s",        "--discovery.authentication=none"};
  argv.insert(argv.end(), o.extra_flags.begin(), o.extra_flags.end());
  return std::make_unique<BackgroundCommand>(argv, std::map<std::string, std::string>{});
}

std::unique_ptr<BackgroundCommand> StartScraperProcess(const ScraperProcessOptions& o) {
  std::vector<std::string> argv{
      Binary("scraper/shardwise-scraper"), "--web.listen-address=" + Loopback(o.port),
      "--operator-url=http://" + Loopback(o.operator_port), "--storage.tsdb.path=" + o.data_dir,
      "--operator.report-interval=1s"};
  argv.insert(argv.end(), o.extra_flags.begin(), o.extra_flags.end());
  return std::make_unique<BackgroundCommand>(
      argv, std::map<std::string, std::string>{{"POD_NAME", o.pod_name},
                                               {"POD_NAMESPACE", o.pod_namespace}});
}

std::set<std::string> HealthyTargets(http::Client& client, int port) {
  std::set<std::string> up;
  auto r = client.DoSync({.url = "http://" + Loopback(port) + "/api/v1/targets"});
  if (!r.ok() || r->status != 200) return up;
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return up;
  for (const auto& t : j["data"]["activeTargets"]) {
    if (t.value("health", "") == "up") up.insert(t["labels"].value("instance", ""));
  }
  return up;
}

void ScrapeLog::Record(int target) {
  std::lock_guard lock(mu_);
  scrapes_[target].push_back(std::chrono::steady_clock::now());
}

std::chrono::milliseconds ScrapeLog::LongestGap(std::chrono::steady_clock::time_point since,
                                                std::chrono::steady_clock::time_point until) const {
  std::lock_guard lock(mu_);
  std::chrono::steady_clock::duration worst{};
  for (const auto& [target, times] : scrapes_) {
    auto last = since;
    for (auto t : times) {
      if (t < since || t > until) continue;
      worst = std::max(worst, t - last);
      last = t;
    }
    worst = std::max(worst, until - last);
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(worst);
}

}  // namespace shardwise::testing
