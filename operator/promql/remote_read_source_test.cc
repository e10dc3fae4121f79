#include "operator/promql/remote_read_source.h"

#include <gtest/gtest.h>

#include "common/http/server.h"
#include "common/testing/test_util.h"
#include "scraper/tsdb/api/handlers.h"
#include "scraper/tsdb/db.h"

namespace shardwise::promql {
namespace {

TEST(RemoteReadSource, EvaluatesOverAScraperTsdb) {
  testing::TempDir dir;
  tsdb::DBOptions o;
  o.retention_interval = std::chrono::milliseconds(0);
  auto db = tsdb::DB::Open(dir.path() + "/db", o);
  ASSERT_TRUE(db.ok());
  const int64_t base = 1'700'000'000'000;
  storage::SeriesRef a = 0, b = 0;
  for (int k = 0; k <= 12; ++k) {
    auto app = (*db)->NewAppender();
    ASSERT_TRUE(
        app->Append(a, Labels{{"__name__", "req_total"}, {"pod", "a"}}, base + k * 10000, 5.0 * k)
            .ok());
    ASSERT_TRUE(
        app->Append(b, Labels{{"__name__", "req_total"}, {"pod", "b"}}, base + k * 10000, 1.0 * k)
            .ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  http::Server server({.listen_address = "127.0.0.1:0"});
  tsdb::api::RegisterHttpHandlers(server, **db);
  ASSERT_TRUE(server.Start().ok());

  http::Client client;
  RemoteReadSource src(client, "http://127.0.0.1:" + std::to_string(server.port()) + "/api/v1/read",
                       std::chrono::seconds(5));
  auto v = Query("sum by (pod) (rate(req_total{pod=~\"a|b\"}[1m]))", src, base + 120000);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->vector.size(), 2u);
  for (const auto& s : v->vector) {
    EXPECT_DOUBLE_EQ(s.v, s.labels.Get("pod") == "a" ? 0.5 : 0.1) << s.labels.ToString();
  }
  server.Stop();

  // Nothing listens there any more: a clear error naming the endpoint, not a hang.
  auto dead = Query("req_total", src, base + 120000);
  ASSERT_FALSE(dead.ok());
  EXPECT_NE(dead.status().message().find("/api/v1/read"), std::string::npos)
      << dead.status().ToString();
}

}  // namespace
}  // namespace shardwise::promql
