// Autoscaling end to end, mode Operator: the real operator binary against the simulator,
// real scraper binaries standing in for the StatefulSet's pods (the test plays the
// StatefulSet controller: it starts a scraper for every replica and stops the ones the
// StatefulSet no longer has), loopback targets whose series the test grows and shrinks, and
// a remote-write receiver in the test process.
//
// Shows: as series grow the operator raises spec.shards through the scale subresource and
// records status.autoscaling and an Event with the figures; when they shrink it scales back
// in after the scale-down stabilization window; every target is scraped in every interval
// throughout; the receiver gets no staleness marker for any series that still exists (the
// targets that moved between shards), only for the series the test removed.
//
// The operator runs as a process, not as a pod of the local cluster (LocalCluster), and the
// HPA mode (aggregation layer) is not covered here: see docs/autoscaling.md.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include "common/http/client.h"
#include "common/http/server.h"
#include "common/testing/test_util.h"
#include "hack/kube-sim/simulator.h"
#include "scraper/remotewrite/test_receiver.h"
#include "tests/kubectl/command_runner.h"

namespace shardwise {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::BackgroundCommand;
using testing::CommandResult;
using testing::RunCommand;
using testing::WaitFor;

constexpr int kTargets = 6;
// Series every target always exposes (demo_series{k="0".."kBase-1"}); grown ones come after.
constexpr int kBase = 20;
constexpr int kGrown = 100;
// 6 targets x (20 + 5 synthetic) = 150 series fit one shard of 200; grown, 630 series ask for
// 4 shards, clamped to maxShards 3; shrunk again, 150 fits one shard at 90 % of the target.
constexpr int kTargetSeriesPerShard = 200;
constexpr int kMaxShards = 3;
constexpr auto kInterval = 1000ms;

bool IsStaleMarker(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits == 0x7ff0000000000002ULL;
}

int FreePort() {
  http::Server s({});
  if (!s.Start().ok()) return 0;
  int p = s.port();
  s.Stop();
  return p;
}

class AutoscaleE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sw-autoscale-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    sim_ = std::make_unique<kubesim::Simulator>(kubesim::SimulatorOptions{});
    ASSERT_TRUE(sim_->Start().ok());
    kubeconfig_ = (dir_ / "kubeconfig").string();
    ASSERT_TRUE(sim_->WriteKubeconfig(kubeconfig_, false).ok());
    env_ = {{"KUBECONFIG", kubeconfig_}, {"KUBECACHEDIR", (dir_ / "kubecache").string()}};
    source_ = std::getenv("SHARDWISE_SOURCE_DIR") ? std::getenv("SHARDWISE_SOURCE_DIR") : ".";

    port_ = FreePort();
    for (int i = 1; i <= kTargets; ++i) {
      series_[i] = kBase;
      http::Server::Options o;
      o.listen_address = "127.0.3." + std::to_string(i) + ":" + std::to_string(port_);
      auto s = std::make_unique<http::Server>(o);
      s->Handle("/metrics", http::Simple([this, i](const http::Request&) {
                  {
                    std::lock_guard lock(mu_);
                    scrapes_[i].push_back(std::chrono::steady_clock::now());
                  }
                  std::string body;
                  for (int k = 0; k < series_.at(i).load(); ++k)
                    body += "demo_series{k=\"" + std::to_string(k) + "\"} 1\n";
                  return http::Response::Text(200, body).With("Content-Type",
                                                              "text/plain; version=0.0.4");
                }));
      ASSERT_TRUE(s->Start().ok()) << "cannot listen on 127.0.3." << i;
      targets_.push_back(std::move(s));
    }

    http::Server::Options ro;
    ro.listen_address = "127.0.0.1:0";
    receiver_ = std::make_unique<http::Server>(ro);
    receiver_->Handle("/api/v1/write", http::Simple([this](const http::Request& req) {
                        auto decoded = remotewrite::testing::DecodeBody(req.body);
                        if (!decoded.ok()) return http::Response::Text(400, "bad body");
                        std::lock_guard lock(mu_);
                        for (const auto& ts : decoded->timeseries()) {
                          for (const auto& s : ts.samples()) {
                            ++received_;
                            if (IsStaleMarker(s.value()))
                              stale_.push_back(remotewrite::testing::SeriesString(ts));
                          }
                        }
                        return http::Response::Text(204, "");
                      }));
    ASSERT_TRUE(receiver_->Start().ok());
  }

  void TearDown() override {
    scrapers_.clear();
    if (operator_) operator_->Terminate(10s);
    for (auto& t : targets_) t->Stop();
    if (receiver_) receiver_->Stop();
    if (sim_) sim_->Stop();
    std::filesystem::remove_all(dir_);
  }

  CommandResult Kubectl(std::vector<std::string> args, const std::string& stdin_data = "") {
    args.insert(args.begin(), "kubectl");
    return RunCommand(args, env_, 60s, stdin_data);
  }

  std::string JsonPath(const std::string& resource, const std::string& path) {
    auto r = Kubectl({"get", resource, "-n", "monitoring", "-o", "jsonpath={" + path + "}"});
    return r.exit_code == 0 ? r.out : "";
  }

  void StartOperator() {
    op_port_ = FreePort();
    std::string bin = std::string(SHARDWISE_BINARY_DIR) + "/operator/shardwise-operator";
    operator_ = std::make_unique<BackgroundCommand>(
        std::vector<std::string>{bin, "--kubeconfig=" + kubeconfig_,
                                 "--web.listen-address=127.0.0.1:" + std::to_string(op_port_),
                                 "--operator-url=http://127.0.0.1:" + std::to_string(op_port_),
                                 "--leader-election.namespace=monitoring", "--resync=1s",
                                 "--heartbeat-timeout=30s", "--rebuild-wait=3s",
                                 "--leader-election.lease-duration=2s",
                                 "--custom-metrics.listen-address=",
                                 // Plain processes, without the projected tokens pods get.
                                 "--discovery.authentication=none"},
        std::map<std::string, std::string>{});
  }

  // The StatefulSet controller's part: one scraper per replica of shardwise-main-0 (pod
  // shardwise-main-0-<ordinal>), and none for the ordinals it no longer has.
  int SyncScrapers() {
    std::string replicas = JsonPath("statefulset/shardwise-main-0", ".spec.replicas");
    if (replicas.empty()) return -1;
    int n = std::stoi(replicas);
    for (int shard = 0; shard < n; ++shard) {
      if (!scrapers_.count(shard)) StartScraper(shard);
    }
    for (auto it = scrapers_.begin(); it != scrapers_.end();) {
      if (it->first < n) {
        ++it;
        continue;
      }
      it->second->Terminate(10s);  // the pod's graceful shutdown
      it = scrapers_.erase(it);
    }
    return n;
  }

  void StartScraper(int shard) {
    int port = FreePort();
    auto d = dir_ / ("scraper-" + std::to_string(shard) + "-" + std::to_string(++starts_));
    std::filesystem::create_directories(d);
    // The remote_write the pool's config gives pods (the operator's ConfigMap).
    std::string config = (d / "config.yaml").string();
    std::ofstream(config) << "remote_write:\n- url: http://127.0.0.1:" << receiver_->port()
                          << "/api/v1/write\n";
    std::string bin = std::string(SHARDWISE_BINARY_DIR) + "/scraper/shardwise-scraper";
    scrapers_[shard] = std::make_unique<BackgroundCommand>(
        std::vector<std::string>{bin, "--web.listen-address=127.0.0.1:" + std::to_string(port),
                                 "--operator-url=http://127.0.0.1:" + std::to_string(op_port_),
                                 "--storage.tsdb.path=" + (d / "data").string(),
                                 "--config.file=" + config, "--operator.report-interval=1s"},
        std::map<std::string, std::string>{
            {"POD_NAME", "shardwise-main-0-" + std::to_string(shard)},
            {"POD_NAMESPACE", "monitoring"}});
    scraper_ports_[shard] = port;
  }

  // Target addresses with a healthy scraper, over the running scrapers.
  std::set<std::string> Scraped() {
    std::set<std::string> seen;
    for (const auto& [shard, _] : scrapers_) {
      auto r = client_.DoSync(
          {.url = "http://127.0.0.1:" + std::to_string(scraper_ports_[shard]) + "/api/v1/targets"});
      if (!r.ok() || r->status != 200) continue;
      auto j = json::parse(r->body, nullptr, false);
      if (j.is_discarded()) continue;
      for (const auto& t : j["data"]["activeTargets"]) {
        if (t.value("health", "") == "up") seen.insert(t["labels"].value("instance", ""));
      }
    }
    return seen;
  }

  // The longest time any target went without a scrape between `since` and `until`.
  std::chrono::milliseconds LongestGap(std::chrono::steady_clock::time_point since,
                                       std::chrono::steady_clock::time_point until) {
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

  // Staleness markers for series that every target always exposes: demo_series{k<kBase}
  // and the synthetic ones. Markers for removed series (k >= kBase) are right.
  std::vector<std::string> WrongStaleMarkers() {
    std::lock_guard lock(mu_);
    std::vector<std::string> wrong;
    for (const auto& s : stale_) {
      auto k = s.find("k=\"");
      if (k == std::string::npos || std::stoi(s.substr(k + 3)) < kBase) wrong.push_back(s);
    }
    return wrong;
  }

  std::string Objects() {
    std::string p = std::to_string(port_);
    std::string y =
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: monitoring}\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: demo, namespace: monitoring, labels: "
        "{app: demo}}\n"
        // No pod selector: the targets are loopback addresses in the hand-written
        // EndpointSlice below, which the cluster's controllers leave alone.
        "spec:\n  ports: [{name: metrics, port: " +
        p +
        "}]\n---\n"
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: demo-1\n  "
        "namespace: monitoring\n  labels: {kubernetes.io/service-name: demo}\n"
        "addressType: IPv4\nports: [{name: metrics, port: " +
        p + ", protocol: TCP}]\nendpoints:\n";
    for (int i = 1; i <= kTargets; ++i)
      y += "  - {addresses: [\"127.0.3." + std::to_string(i) + "\"], conditions: {ready: true}}\n";
    // The same targets as Endpoints (the role ServiceMonitors read by default).
    y += "---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: demo, namespace: monitoring}\n"
         "subsets:\n- ports: [{name: metrics, port: " +
         p + ", protocol: TCP}]\n  addresses:\n";
    for (int i = 1; i <= kTargets; ++i) y += "  - ip: 127.0.3." + std::to_string(i) + "\n";
    y += "---\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\n"
         "metadata: {name: demo, namespace: monitoring, labels: {pool: main}}\n"
         "spec:\n  selector: {matchLabels: {app: demo}}\n"
         "  endpoints: [{port: metrics, interval: 1s, scrapeTimeout: 1s}]\n---\n"
         "apiVersion: shardwise.io/v1alpha1\nkind: ScrapePool\n"
         "metadata: {name: main, namespace: monitoring}\n"
         "spec:\n  shards: 1\n"
         "  serviceMonitorSelector: {matchLabels: {pool: main}}\n"
         "  scrapeDefaults: {interval: 1s, timeout: 1s}\n"
         "  remoteWrite: [{url: \"http://127.0.0.1:" +
         std::to_string(receiver_->port()) +
         "/api/v1/write\"}]\n"
         "  autoscaling:\n    mode: Operator\n    minShards: 1\n    maxShards: " +
         std::to_string(kMaxShards) +
         "\n    targetSeriesPerShard: " + std::to_string(kTargetSeriesPerShard) +
         "\n    scaleUpStabilizationSeconds: 3\n    scaleDownStabilizationSeconds: 10\n";
    return y;
  }

  std::filesystem::path dir_;
  std::string source_;
  std::string kubeconfig_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<kubesim::Simulator> sim_;
  std::vector<std::unique_ptr<http::Server>> targets_;
  std::map<int, std::atomic<int>> series_;
  std::unique_ptr<http::Server> receiver_;
  int port_ = 0;
  int op_port_ = 0;
  int starts_ = 0;
  std::unique_ptr<BackgroundCommand> operator_;
  std::map<int, std::unique_ptr<BackgroundCommand>> scrapers_;
  std::map<int, int> scraper_ports_;
  http::Client client_;
  std::mutex mu_;
  std::map<int, std::vector<std::chrono::steady_clock::time_point>> scrapes_;  // by target
  std::vector<std::string> stale_;
  int64_t received_ = 0;
};

TEST_F(AutoscaleE2ETest, OperatorModeScalesOutAndBackInWithoutMissingAnInterval) {
  auto crds = Kubectl({"apply", "-f", source_ + "/crds/monitoring.coreos.com/", "-f",
                       source_ + "/crds/shardwise.io/"});
  ASSERT_EQ(crds.exit_code, 0) << crds.Describe();
  auto wait = Kubectl({"wait", "--for=condition=Established", "--timeout=30s",
                       "crd/servicemonitors.monitoring.coreos.com", "crd/scrapepools.shardwise.io",
                       "crd/scrapeshards.shardwise.io"});
  ASSERT_EQ(wait.exit_code, 0) << wait.Describe();
  auto applied = Kubectl({"apply", "-f", "-"}, Objects());
  ASSERT_EQ(applied.exit_code, 0) << applied.Describe();
  StartOperator();

  // One shard scrapes every target and the receiver gets samples.
  ASSERT_TRUE(WaitFor([&] { return SyncScrapers() == 1 && Scraped().size() == kTargets; }, 60s))
      << "scraped " << Scraped().size() << "\n"
      << Kubectl(
             {"get", "scrapepool/main", "-n", "monitoring", "-o", "jsonpath={.status.conditions}"})
             .out
      << "\n"
      << operator_->Errors() << "\n"
      << (scrapers_.count(0) ? scrapers_[0]->Errors() + scrapers_[0]->Output() : "");
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard lock(mu_);
        return received_ > 0;
      },
      30s));
  const auto start = std::chrono::steady_clock::now();

  // Grow: the pool scales out to maxShards, with status and an Event carrying the figures.
  for (auto& [_, n] : series_) n = kGrown;
  ASSERT_TRUE(WaitFor([&] { return JsonPath("scrapepool/main", ".spec.shards") == "3"; }, 60s))
      << JsonPath("scrapepool/main", ".status.autoscaling") << "\n"
      << operator_->Errors();
  ASSERT_TRUE(WaitFor([&] { return SyncScrapers() == kMaxShards; }, 30s));
  std::string autoscaling = JsonPath("scrapepool/main", ".status.autoscaling");
  auto status = json::parse(autoscaling, nullptr, false);
  ASSERT_FALSE(status.is_discarded()) << autoscaling;
  EXPECT_EQ(status.value("desiredShards", 0), kMaxShards) << autoscaling;
  EXPECT_NE(status.value("lastScaleReason", "").find("series"), std::string::npos) << autoscaling;
  EXPECT_FALSE(status.value("lastScaleTime", "").empty()) << autoscaling;
  auto events = Kubectl({"get", "events", "-n", "monitoring", "--field-selector",
                         "involvedObject.name=main", "-o", "jsonpath={.items[*].message}"});
  EXPECT_NE(events.out.find("->"), std::string::npos) << events.Describe();
  EXPECT_NE(events.out.find("series"), std::string::npos) << events.Describe();
  // Every new shard takes targets over; all stay scraped.
  ASSERT_TRUE(WaitFor(
      [&] {
        SyncScrapers();
        auto r = Kubectl({"get", "scrapeshards", "-n", "monitoring", "-o", "json"});
        if (r.exit_code != 0) return false;
        json shards = json::parse(r.out, nullptr, false);
        if (shards.is_discarded() || shards["items"].size() != kMaxShards) return false;
        for (const auto& item : shards["items"]) {
          if (item.value("status", json::object()).value("targets", 0) == 0) return false;
        }
        return Scraped().size() == kTargets;
      },
      60s))
      << operator_->Errors();

  // Shrink: back to one shard once the scale-down window has passed; drained shards' pods go.
  for (auto& [_, n] : series_) n = kBase;
  const auto shrunk = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor(
      [&] {
        SyncScrapers();
        return JsonPath("scrapepool/main", ".spec.shards") == "1";
      },
      60s))
      << JsonPath("scrapepool/main", ".status.autoscaling") << "\n"
      << operator_->Errors();
  EXPECT_GE(std::chrono::steady_clock::now() - shrunk, 10s)
      << "scaled in before the stabilization window";
  ASSERT_TRUE(WaitFor([&] { return SyncScrapers() == 1 && Scraped().size() == kTargets; }, 60s))
      << operator_->Errors();
  // A few more intervals on the final shard, then the receiver has had what was sent.
  const auto until = std::chrono::steady_clock::now() + 3 * kInterval;
  WaitFor([&] { return std::chrono::steady_clock::now() >= until; }, 5s);

  const auto gap = LongestGap(start, std::chrono::steady_clock::now());
  EXPECT_LT(gap, kInterval * 7 / 4)
      << "a target missed an interval: longest gap " << gap.count() << " ms";
  auto wrong = WrongStaleMarkers();
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " staleness markers for live series, first "
                             << (wrong.empty() ? "" : wrong.front());
  EXPECT_TRUE(WaitFor(
      [&] {
        std::lock_guard lock(mu_);
        return !stale_.empty();
      },
      10s))
      << "the removed series were never marked stale";
}

}  // namespace
}  // namespace shardwise
