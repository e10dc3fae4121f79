#include "operator/ui/ui_api.h"

#include <gtest/gtest.h>

#include "common/http/client.h"

namespace shardwise::ui {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

pool::PoolSnapshot TwoShards(Clock::time_point now) {
  pool::PoolSnapshot p;
  p.ns = "monitoring";
  p.name = "main";
  p.taken = now;
  p.desired_shards = 2;
  p.shard_count = 2;
  p.autoscaling_mode = "Operator";
  p.target_series_per_shard = 1000;
  p.ready = 1;
  p.lost = 1;
  p.series = 800;
  pool::ShardSnapshot a;
  a.index = 0;
  a.phase = "Active";
  a.pods = {"main-0-0"};
  a.replicas_alive = 1;
  a.targets = 2;
  a.has_load = true;
  a.series = 800;
  a.samples_per_second = 80;
  a.remote_write_lag_seconds = 1.25;
  a.last_report = now - 3s;
  pool::ShardSnapshot b;
  b.index = 1;
  b.phase = "Lost";
  b.pods = {"main-1-0"};
  b.ready_reason = "PodNotReady";
  b.ready_message = "container exited";
  p.shards = {a, b};
  p.targets = {{1, "serviceMonitor/monitoring/app/0", "10.0.0.1:8080", R"({job="app"})", 0, 500,
                400, 1'800'000'000'000, ""},
               {2, "podMonitor/monitoring/node/0", "10.0.0.2:9100", R"({job="node"})", 0, 500, -1,
                0, "connection refused"}};
  p.handoffs = {{2, 1, 0, now - 4s, std::nullopt}};
  p.monitors = {
      {"ServiceMonitor", "monitoring", "app", true, "", 1},
      {"PodMonitor", "monitoring", "broken", false, "spec.podMetricsEndpoints[0]: bad", 0}};
  return p;
}

TEST(UiApiTest, PoolJsonShowsLoadForLiveShardsOnlyAndHeartbeatAge) {
  const auto now = Clock::from_time_t(1'800'000'000);
  json j = PoolJson(TwoShards(now), now);
  ASSERT_EQ(j["shardList"].size(), 2u);
  const json& live = j["shardList"][0];
  EXPECT_EQ(live["series"], 800);
  EXPECT_EQ(live["heartbeatAgeSeconds"], 3);
  EXPECT_DOUBLE_EQ(live["remoteWriteLagSeconds"].get<double>(), 1.3);
  const json& lost = j["shardList"][1];
  EXPECT_EQ(lost["phase"], "Lost");
  EXPECT_FALSE(lost.contains("series"));  // no stale load for a Lost shard
  EXPECT_FALSE(lost.contains("samplesPerSecond"));
  EXPECT_EQ(lost["downReason"], "PodNotReady: container exited");
  ASSERT_EQ(j["handoffList"].size(), 1u);
  EXPECT_EQ(j["handoffList"][0]["address"], "10.0.0.2:9100");
  EXPECT_EQ(j["handoffList"][0]["ageSeconds"], 4);
  EXPECT_EQ(j["invalidMonitors"], 1);
  EXPECT_EQ(j["monitorList"][1]["message"], "spec.podMetricsEndpoints[0]: bad");
  EXPECT_EQ(j["autoscaling"]["targetSeriesPerShard"], 1000);
}

TEST(UiApiTest, TargetsFilterByShardAndSearch) {
  const auto now = Clock::from_time_t(1'800'000'000);
  auto p = TwoShards(now);
  EXPECT_EQ(TargetsJson(p, -1, "", 10)["matched"], 2);
  json node = TargetsJson(p, 0, "NODE", 10);
  ASSERT_EQ(node["matched"], 1);
  EXPECT_EQ(node["targets"][0]["address"], "10.0.0.2:9100");
  EXPECT_EQ(node["targets"][0]["lastError"], "connection refused");
  EXPECT_FALSE(node["targets"][0].contains("series"));  // never scraped
  EXPECT_EQ(TargetsJson(p, 1, "", 10)["matched"], 0);
  json limited = TargetsJson(p, -1, "", 1);
  EXPECT_EQ(limited["matched"], 2);
  EXPECT_EQ(limited["shown"], 1);
}

TEST(UiApiTest, ServesPagesAndJsonOverHttp) {
  pool::SnapshotStore store;
  store.Publish(TwoShards(Clock::now()));
  http::Server server({});
  Register(server, store);
  ASSERT_TRUE(server.Start().ok());
  http::Client c;
  const std::string base = "http://" + server.address();

  auto page = c.DoSync({.url = base + "/"});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("/ui/app.js"), std::string::npos);
  for (const char* asset : {"/ui/app.js", "/ui/app.css"}) {
    auto r = c.DoSync({.url = base + asset});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << asset;
    EXPECT_GT(r->body.size(), 1000u) << asset;
  }

  auto pools = c.DoSync({.url = base + "/api/v1/ui/pools"});
  ASSERT_TRUE(pools.ok());
  json pj = json::parse(pools->body);
  ASSERT_EQ(pj["pools"].size(), 1u);
  EXPECT_EQ(pj["pools"][0]["name"], "main");

  auto one = c.DoSync({.url = base + "/api/v1/ui/pools/monitoring/main"});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->status, 200);
  EXPECT_EQ(json::parse(one->body)["shardList"].size(), 2u);

  auto t = c.DoSync({.url = base + "/api/v1/ui/pools/monitoring/main/targets?shard=0&q=app"});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(json::parse(t->body)["matched"], 1);

  EXPECT_EQ(c.DoSync({.url = base + "/api/v1/ui/pools/monitoring/nope"})->status, 404);
  EXPECT_EQ(c.DoSync({.url = base + "/api/v1/ui/pools/monitoring"})->status, 404);
  EXPECT_EQ(c.DoSync({.url = base + "/api/v1/ui/pools/monitoring/main/targets?shard=x"})->status,
            400);
  EXPECT_EQ(c.DoSync({.method = "DELETE", .url = base + "/api/v1/ui/pools"})->status, 405);
  server.Stop();
}

}  // namespace
}  // namespace shardwise::ui
