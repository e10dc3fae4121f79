// End to end against the real Prometheus (Debian's 2.42 on PATH): Prometheus reads our DB
// through remote_read, and PromQL over what it read must give back exactly what we
// ingested.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/http/client.h"
#include "common/http/server.h"
#include "common/testing/local_process.h"
#include "common/testing/prometheus_process.h"
#include "scraper/tsdb/api/handlers.h"
#include "scraper/tsdb/db.h"
#include "scraper/tsdb/testutil.h"

namespace shardwise::tsdb {
namespace {

TEST(PrometheusIntegrationTest, RateOverRemoteReadMatchesIngestedCounter) {
  std::string binary = shardwise::testing::FindOnPath("prometheus");
  if (binary.empty()) GTEST_SKIP() << "prometheus not on PATH";
  testing::TempDir dir("prom_it");

  // A counter growing by 10 every 15 s for the last 10 minutes: rate = 2/3 per second.
  DBOptions o;
  o.retention_interval = std::chrono::milliseconds(0);
  auto db = DB::Open(dir.path() + "/shardwise", o);
  ASSERT_TRUE(db.ok());
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t last_t = now_ms / 15'000 * 15'000;
  const int kSamples = 40;
  storage::SeriesRef ref = 0, other = 0;
  for (int k = 0; k < kSamples; ++k) {
    auto app = (*db)->NewAppender();
    int64_t t = last_t - (kSamples - 1 - k) * 15'000;
    ASSERT_TRUE(app->Append(ref, Labels{{"__name__", "shardwise_it_requests_total"}, {"job", "it"}},
                            t, 10.0 * k)
                    .ok());
    ASSERT_TRUE(
        app->Append(other, Labels{{"__name__", "shardwise_it_other"}, {"job", "it"}}, t, 1).ok());
    ASSERT_TRUE(app->Commit().ok());
  }

  http::Server server({.listen_address = "127.0.0.1:0"});
  api::RegisterHttpHandlers(server, **db);
  ASSERT_TRUE(server.Start().ok());

  int prom_port = shardwise::testing::FreePort();
  {
    std::ofstream cfg(dir.path() + "/prometheus.yml");
    cfg << "global:\n  scrape_interval: 1h\n  evaluation_interval: 1h\n"
        << "remote_read:\n  - url: http://127.0.0.1:" << server.port() << "/api/v1/read\n"
        << "    read_recent: true\n";
  }
  shardwise::testing::PrometheusProcess prom;
  ASSERT_TRUE(prom.Start(binary, dir.path(), prom_port));
  std::string base = prom.url();
  http::Client client;
  if (!prom.WaitReady(std::chrono::seconds(45)))
    FAIL() << "prometheus not ready; log:\n" << prom.Log();

  auto query = [&](const std::string& promql) -> nlohmann::json {
    std::string url = base + "/api/v1/query?query=" + http::PercentEncode(promql) +
                      "&time=" + std::to_string(last_t / 1000) + "." +
                      std::to_string(1000 + last_t % 1000).substr(1);
    auto r = client.DoSync({.url = url});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    EXPECT_EQ(r->status, 200) << r->body;
    return nlohmann::json::parse(r->body);
  };

  auto rate = query("rate(shardwise_it_requests_total[1m])");
  ASSERT_EQ(rate["status"], "success") << rate.dump();
  ASSERT_EQ(rate["data"]["result"].size(), 1u) << rate.dump();
  const auto& series = rate["data"]["result"][0];
  EXPECT_EQ(series["metric"]["job"], "it");
  double got = std::stod(series["value"][1].get<std::string>());
  EXPECT_NEAR(got, 10.0 / 15.0, 1e-9) << rate.dump();

  auto raw = query("shardwise_it_requests_total");
  ASSERT_EQ(raw["data"]["result"].size(), 1u) << raw.dump();
  EXPECT_EQ(raw["data"]["result"][0]["value"][1], std::to_string(10 * (kSamples - 1)));

  auto increase = query("increase(shardwise_it_requests_total[5m])");
  ASSERT_EQ(increase["data"]["result"].size(), 1u);
  EXPECT_NEAR(std::stod(increase["data"]["result"][0]["value"][1].get<std::string>()), 200.0, 1e-6);
  // Matchers travel through remote read: a selector that matches nothing returns nothing.
  auto none = query("shardwise_it_requests_total{job=\"other\"}");
  EXPECT_EQ(none["data"]["result"].size(), 0u);

  prom.Stop();
  server.Stop();
}

}  // namespace
}  // namespace shardwise::tsdb
