// The operator's pages in headless Chromium against a pool snapshot made by hand (no
// cluster; the cluster run is ui_e2e_test): a Lost shard shows no load but why it is down,
// the handoff in flight and the invalid monitor are listed, the autoscaler chart marks the
// decision, and the targets view filters by search — all without a console message.
// Screenshot: <build>/tests/e2e/ui_lost_shard.png.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "common/http/server.h"
#include "operator/ui/ui_api.h"
#include "tests/e2e/headless_chromium.h"

namespace shardwise::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using Clock = std::chrono::system_clock;

pool::PoolSnapshot PoolWithALostShard(Clock::time_point now) {
  pool::PoolSnapshot p;
  p.ns = "monitoring";
  p.name = "main";
  p.taken = now;
  p.desired_shards = 3;
  p.shard_count = 3;
  p.autoscaling_mode = "Operator";
  p.min_shards = 1;
  p.max_shards = 5;
  p.target_series_per_shard = 1000;
  p.ready = 2;
  p.lost = 1;
  p.series = 1500;
  p.samples_per_second = 150;
  for (int s = 0; s < 3; ++s) {
    pool::ShardSnapshot sh;
    sh.index = s;
    sh.pods = {"shardwise-main-0-" + std::to_string(s)};
    if (s < 2) {
      sh.phase = "Active";
      sh.replicas_alive = 1;
      sh.targets = 2;
      sh.has_load = true;
      sh.series = 700 + 100 * s;
      sh.samples_per_second = 70 + 10 * s;
      sh.remote_write_lag_seconds = 1.5;
      sh.last_report = now - 2s;
    } else {
      sh.phase = "Lost";
      sh.ready_reason = "PodDeleted";
      sh.ready_message = "pod is gone";
    }
    p.shards.push_back(sh);
  }
  p.targets = {{1, "serviceMonitor/default/sample-app/0", "10.0.0.1:8080", R"({job="sample-app"})",
                0, 400, 400, Clock::to_time_t(now) * 1000, ""},
               {2, "podMonitor/monitoring/node-exporter/0", "10.0.0.2:9100", R"({job="node"})", 0,
                300, 300, Clock::to_time_t(now) * 1000, ""},
               {3, "podMonitor/monitoring/node-exporter/0", "10.0.0.3:9100", R"({job="node"})", 1,
                300, -1, 0, "connection refused"},
               {4, "serviceMonitor/default/sample-app/0", "10.0.0.4:8080", R"({job="sample-app"})",
                1, 500, 500, Clock::to_time_t(now) * 1000, ""}};
  p.handoffs = {{3, 1, 0, now - 3s, std::nullopt}};
  p.monitors = {{"ServiceMonitor", "default", "sample-app", true, "", 2},
                {"PodMonitor", "monitoring", "node-exporter", true, "", 2},
                {"PodMonitor", "monitoring", "broken", false,
                 "spec.podMetricsEndpoints[0].port: required", 0}};
  return p;
}

TEST(UiBrowserTest, ALostShardShowsNoLoadAndSearchFiltersTargets) {
  if (!ChromiumInstalled()) {
    GTEST_SKIP() << "chromium is not installed (hack/install-deps.sh installs it)";
  }
  // History: two shards, then a scale-up decision to three, one point every 5 s.
  pool::SnapshotStore store;
  const auto now = Clock::now();
  for (int i = 0; i < 12; ++i) {
    auto p = PoolWithALostShard(now - (11 - i) * 5s);
    p.shard_count = p.desired_shards = i < 6 ? 2 : 3;
    p.series = 800 + 60 * i;
    store.Publish(std::move(p), i == 6 ? "scraper shards 2 -> 3 (4 targets, 1.2k series)" : "");
  }
  store.Publish(PoolWithALostShard(now));
  http::Server server({});
  ui::Register(server, store);
  ASSERT_TRUE(server.Start().ok());
  const std::string base = "http://" + server.address();
  TempDir profile;

  Browser page = Chromium(base + "/#/pools/monitoring/main", "", profile);
  ASSERT_EQ(page.run.exit_code, 0) << page.run.Describe();
  EXPECT_EQ(page.console, "");
  auto shards = Rows(page.dom, "data-shard=");
  ASSERT_EQ(shards.size(), 3u) << page.dom;
  EXPECT_EQ(shards[0]["data-series"], "700");
  EXPECT_EQ(shards[1]["data-series"], "800");
  EXPECT_EQ(shards[2]["data-phase"], "Lost");
  EXPECT_EQ(shards[2]["data-series"], "");  // no load for a Lost shard
  EXPECT_EQ(shards[2]["data-sps"], "");
  EXPECT_THAT(page.dom, HasSubstr("no load shown: shard lost (PodDeleted: pod is gone)"));
  EXPECT_THAT(page.dom, HasSubstr("10.0.0.3:9100"));  // the handoff in flight
  auto monitors = Rows(page.dom, "data-valid=");
  ASSERT_EQ(monitors.size(), 3u);
  EXPECT_THAT(page.dom, HasSubstr("spec.podMetricsEndpoints[0].port: required"));
  EXPECT_THAT(page.dom, HasSubstr("class=\"decision\""));
  EXPECT_THAT(page.dom, HasSubstr("scraper shards 2 -&gt; 3"));

  Browser search = Chromium(base + "/#/pools/monitoring/main/targets?q=node", "", profile);
  EXPECT_EQ(search.console, "");
  auto found = Rows(search.dom, "data-target=");
  ASSERT_EQ(found.size(), 2u) << search.dom;
  EXPECT_THAT(search.dom, HasSubstr("2 of 4 targets match"));
  EXPECT_THAT(search.dom, HasSubstr("connection refused"));
  Browser by_shard = Chromium(base + "/#/pools/monitoring/main/targets?shard=1", "", profile);
  EXPECT_EQ(Rows(by_shard.dom, "data-target=").size(), 2u) << by_shard.dom;

  const char* dir = std::getenv("SHARDWISE_BINARY_DIR");
  const std::string shot = std::string(dir ? dir : ".") + "/tests/e2e/ui_lost_shard.png";
  std::filesystem::create_directories(std::filesystem::path(shot).parent_path());
  Browser s = Chromium(base + "/#/pools/monitoring/main", shot, profile);
  EXPECT_EQ(s.run.exit_code, 0) << s.run.Describe();
  EXPECT_TRUE(std::filesystem::exists(shot));
  server.Stop();
}

}  // namespace
}  // namespace shardwise::testing
