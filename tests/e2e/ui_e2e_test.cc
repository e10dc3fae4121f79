// The operator's web UI in a real browser: the local cluster runs Shardwise as hack/demo.sh
// deploys it (CRDs, `kubectl apply -k manifests/`, `kubectl apply -k manifests/examples/`:
// the operator Deployment, node-exporters, the sample app, VictoriaMetrics and the pool
// "main" with 3 scraper shards). Once every shard reports load, headless Chromium (Debian
// `chromium`) loads the leader's status page; after its script rendered (virtual-time
// budget) the DOM is dumped and the shard map checked against the cluster: 3 shards, all
// Active, targets per shard summing to the pool's targets, each with series and samples/s;
// the targets page lists every target at the address the cluster gives it. The browser's
// console must stay silent (a script error, a refused fetch or a Content-Security-Policy
// violation would all show there). Screenshots go to the build tree:
// <build>/tests/e2e/ui_shard_map.png and ui_targets.png (docs/img/ holds a copy).
// Also: every metric the Grafana dashboard (manifests/monitoring/) names is in the live
// binaries' /metrics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include "common/http/client.h"
#include "tests/e2e/fleet.h"
#include "tests/e2e/headless_chromium.h"
#include "tests/e2e/local_cluster.h"

namespace shardwise::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

// The leader answers the UI: the replica that labelled its pod shardwise.io/leader=true.
std::string LeaderIp(const LocalCluster& c) {
  auto r = c.Kubectl({"get", "pods", "-n", "shardwise-system", "-l",
                      "app.kubernetes.io/name=shardwise-operator,shardwise.io/leader=true", "-o",
                      "json"});
  if (r.exit_code != 0) return "";
  auto pods = json::parse(r.out, nullptr, false);
  if (pods.is_discarded()) return "";
  for (const auto& p : pods.value("items", json::array())) {
    for (const auto& cond : p["status"].value("conditions", json::array())) {
      if (cond.value("type", "") == "Ready" && cond.value("status", "") == "True") {
        return p["status"].value("podIP", "");
      }
    }
  }
  return "";
}

TEST(UiE2ETest, ChromiumShowsTheShardMapOfARunningCluster) {
  if (!ChromiumInstalled()) {
    GTEST_SKIP() << "chromium is not installed (hack/install-deps.sh installs it)";
  }
  LocalCluster cluster;
  ASSERT_TRUE(cluster.Start().ok()) << cluster.SimLog();
  Status deployed = ApplyCrds(cluster);
  ASSERT_TRUE(deployed.ok()) << deployed.ToString();
  deployed = ApplyOperator(cluster);
  ASSERT_TRUE(deployed.ok()) << deployed.ToString();
  auto r = cluster.Kubectl({"apply", "-k", LocalCluster::SourcePath("manifests/examples/")});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();

  // Every shard reports series (the scrapers ran their plans and scraped).
  auto shards_reporting = [&] {
    std::string got =
        cluster
            .Kubectl({"get", "scrapeshards", "-n", "shardwise-system", "-o",
                      "jsonpath={range .items[*]}{.status.activeSeries}{\"\\n\"}{end}"})
            .out;
    std::istringstream in(got);
    int reporting = 0;
    for (std::string v; std::getline(in, v);) reporting += !v.empty() && v != "0";
    return reporting == 3;
  };
  ASSERT_TRUE(WaitFor(shards_reporting, 120s))
      << cluster.Kubectl({"get", "pods,scrapeshards", "-A"}).out << "\nscraper 0's log:\n"
      << cluster.Logs("shardwise-main-0-0", "scraper", {"--tail=40"}, "shardwise-system");
  const int pool_targets =
      std::stoi("0" + cluster.JsonPath("scrapepool/main", ".status.targets", "shardwise-system"));
  ASSERT_EQ(pool_targets, 5) << "3 node-exporters and 2 sample-app pods";

  // kubectl at a glance: the pools' and shards' printer columns.
  auto pools = cluster.Kubectl({"get", "scrapepools", "-n", "shardwise-system"});
  EXPECT_THAT(pools.out, HasSubstr("AUTOSCALING")) << pools.Describe();
  EXPECT_THAT(pools.out, HasSubstr("Off")) << pools.Describe();
  auto shard_table = cluster.Kubectl({"get", "scrapeshards", "-n", "shardwise-system"});
  for (const char* column : {"PHASE", "TARGETS", "SERIES", "SAMPLES/S", "RW-LAG", "HEARTBEAT"}) {
    EXPECT_THAT(shard_table.out, HasSubstr(column)) << shard_table.Describe();
  }

  std::string leader;
  ASSERT_TRUE(WaitFor([&] { return !(leader = LeaderIp(cluster)).empty(); }, 30s));
  const std::string base = "https://" + leader + ":8080";
  // The UI's JSON has caught up with the same state (load of all 3 shards). The operator's
  // certificate is verified with the CA it publishes, under its Service's name.
  http::Client client;
  http::ClientRequest ui_req{.url = base + "/api/v1/ui/pools/shardwise-system/main"};
  ui_req.tls.ca_pem =
      cluster.JsonPath("configmap/shardwise-ca", ".data.ca\\.crt", "shardwise-system");
  ui_req.tls.server_name = "shardwise-operator.shardwise-system.svc";
  ASSERT_TRUE(WaitFor(
      [&] {
        auto resp = client.DoSync(ui_req);
        if (!resp.ok() || resp->status != 200) return false;
        auto j = json::parse(resp->body, nullptr, false);
        if (j.is_discarded()) return false;
        int loaded = 0;
        for (const auto& s : j["shardList"]) loaded += s.contains("series") ? 1 : 0;
        return loaded == 3 && j.value("targets", 0) == 5;
      },
      60s));

  TempDir profile;
  Browser page = Chromium(base + "/#/pools/shardwise-system/main", "", profile);
  ASSERT_EQ(page.run.exit_code, 0) << page.run.Describe();
  EXPECT_EQ(page.console, "") << "the page wrote to the browser console";
  EXPECT_THAT(page.dom, HasSubstr("ScrapePool shardwise-system/main"));
  EXPECT_THAT(page.dom, HasSubstr("id=\"shard-map\""));
  EXPECT_THAT(page.dom, HasSubstr("id=\"autoscaler-chart\""));
  auto shards = Rows(page.dom, "data-shard=");
  ASSERT_EQ(shards.size(), 3u) << page.dom;
  int targets = 0;
  std::set<std::string> indexes;
  for (auto& s : shards) {
    indexes.insert(s["data-shard"]);
    EXPECT_EQ(s["data-phase"], "Active") << "shard " << s["data-shard"];
    EXPECT_GT(std::stod("0" + s["data-series"]), 0) << "shard " << s["data-shard"];
    // Samples/s is per report interval: one without a scrape in it may show 0.
    EXPECT_FALSE(s["data-sps"].empty()) << "shard " << s["data-shard"];
    targets += std::stoi("0" + s["data-targets"]);
  }
  EXPECT_EQ(indexes, (std::set<std::string>{"0", "1", "2"}));
  EXPECT_EQ(targets, pool_targets);
  // The monitors: the node-exporter PodMonitor and the sample app's ServiceMonitor, valid.
  auto monitors = Rows(page.dom, "data-valid=");
  EXPECT_EQ(monitors.size(), 2u);
  for (auto& m : monitors) EXPECT_EQ(m["data-valid"], "true");

  // The targets page lists every target at its pod's address.
  Browser tpage = Chromium(base + "/#/pools/shardwise-system/main/targets", "", profile);
  ASSERT_EQ(tpage.run.exit_code, 0) << tpage.run.Describe();
  EXPECT_EQ(tpage.console, "");
  EXPECT_EQ(Rows(tpage.dom, "data-target=").size(), 5u) << tpage.dom;
  for (const char* sel : {"app=sample-app"}) {
    std::string ips = cluster
                          .Kubectl({"get", "pods", "-A", "-l", sel, "-o",
                                    "jsonpath={range .items[*]}{.status.podIP}{\"\\n\"}{end}"})
                          .out;
    std::istringstream in(ips);
    for (std::string ip; std::getline(in, ip);) {
      if (!ip.empty()) {
        EXPECT_THAT(tpage.dom, HasSubstr(ip + ":")) << sel;
      }
    }
  }

  // The scraper's own pages, like Prometheus's: /targets grouped by job with health, and the
  // head's cardinality at /tsdb-status.
  const std::string scraper =
      "http://" + cluster.PodIp("shardwise-main-0-0", "shardwise-system") + ":9091";
  // A target the scraper was just handed shows "unknown" until its first scrape, as in
  // Prometheus, so the page is read again until every row has a health.
  Browser starg;
  auto all_up = [&] {
    starg = Chromium(scraper + "/targets", "", profile);
    if (starg.run.exit_code != 0) return false;
    auto rows = Rows(starg.dom, "data-health=");
    return !rows.empty() &&
           std::all_of(rows.begin(), rows.end(), [](auto& t) { return t["data-health"] == "up"; });
  };
  EXPECT_TRUE(WaitFor(all_up, 60s)) << starg.run.Describe() << starg.dom;
  EXPECT_EQ(starg.console, "");
  Browser tsdb = Chromium(scraper + "/tsdb-status", "", profile);
  ASSERT_EQ(tsdb.run.exit_code, 0) << tsdb.run.Describe();
  EXPECT_EQ(tsdb.console, "");
  EXPECT_THAT(tsdb.dom, HasSubstr("id=\"by-metric\""));
  EXPECT_FALSE(Rows(tsdb.dom, "data-name=").empty()) << tsdb.dom;

  // Every metric the Grafana dashboard names is exported by the running binaries: the
  // leading operator and a scraper (tests/monitoring/check_dashboard.sh lists them; it also
  // checks that every query parses).
  auto names = RunCommand(
      {"bash", LocalCluster::SourcePath("tests/monitoring/check_dashboard.sh"), "--metrics"}, {},
      30s);
  ASSERT_EQ(names.exit_code, 0) << names.Describe();
  std::set<std::string> exported;
  for (const std::string& url :
       {base + "/metrics",
        "http://" + cluster.PodIp("shardwise-main-0-0", "shardwise-system") + ":9091/metrics"}) {
    http::ClientRequest req = ui_req;  // the operator's CA; the scraper's URL is plain http
    req.url = url;
    auto m = client.DoSync(req);
    ASSERT_TRUE(m.ok() && m->status == 200) << url;
    std::istringstream in(m->body);
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("# TYPE ")) {
        std::istringstream words(line.substr(7));
        std::string name, type;
        words >> name >> type;
        exported.insert(name);
        if (type == "histogram" || type == "summary") {
          for (const char* suffix : {"_bucket", "_sum", "_count"}) exported.insert(name + suffix);
        }
      } else if (!line.empty() && line[0] != '#') {
        exported.insert(line.substr(0, line.find_first_of("{ ")));
      }
    }
  }
  std::istringstream wanted(names.out);
  int checked = 0;
  for (std::string name; std::getline(wanted, name);) {
    if (name.empty()) continue;
    ++checked;
    EXPECT_TRUE(exported.count(name))
        << "the dashboard names " << name << ", which neither the operator nor a scraper exports";
  }
  EXPECT_GT(checked, 10);

  const std::string out_dir = LocalCluster::BuildOutput("tests/e2e");
  std::filesystem::create_directories(out_dir);
  for (auto [url, file] :
       {std::pair{base + "/#/pools/shardwise-system/main", "ui_shard_map.png"},
        std::pair{base + "/#/pools/shardwise-system/main/targets", "ui_targets.png"},
        std::pair{scraper + "/targets", "scraper_targets.png"},
        std::pair{scraper + "/tsdb-status", "scraper_tsdb_status.png"}}) {
    const std::string path = out_dir + "/" + file;
    std::filesystem::remove(path);
    Browser shot = Chromium(url, path, profile);
    EXPECT_EQ(shot.run.exit_code, 0) << shot.run.Describe();
    ASSERT_TRUE(std::filesystem::exists(path)) << shot.run.Describe();
    EXPECT_GT(std::filesystem::file_size(path), 10000u);
  }
  cluster.Stop();
}

}  // namespace
}  // namespace shardwise::testing
