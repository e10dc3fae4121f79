#include "scraper/tsdb/api/tsdb_status.h"

#include <gtest/gtest.h>

#include "scraper/tsdb/db.h"
#include "scraper/tsdb/testutil.h"

namespace shardwise::tsdb::api {
namespace {

using nlohmann::json;

TEST(TsdbStatusTest, TopMetricNamesLabelNamesAndPairsBySeries) {
  testing::TempDir dir{"tsdb-status"};
  auto db = DB::Open(dir.path(), DBOptions{});
  ASSERT_TRUE(db.ok());
  // 6 series of http_requests_total (job api|web x code 200|404|500), 1 of up, 1 of build_info.
  auto app = (*db)->NewAppender();
  for (std::string job : {"api", "web"}) {
    for (std::string code : {"200", "404", "500"}) {
      storage::SeriesRef ref = 0;
      ASSERT_TRUE(
          app->Append(ref,
                      Labels{{"__name__", "http_requests_total"}, {"job", job}, {"code", code}},
                      1000, 1)
              .ok());
    }
  }
  for (std::string name : {"up", "build_info"}) {
    storage::SeriesRef ref = 0;
    ASSERT_TRUE(app->Append(ref, Labels{{"__name__", name}, {"job", "api"}}, 2000, 1).ok());
  }
  ASSERT_TRUE(app->Commit().ok());

  json j = TsdbStatusJson((*db)->head(), 2);
  ASSERT_EQ(j["status"], "success");
  const json& d = j["data"];
  EXPECT_EQ(d["headStats"]["numSeries"], 8);
  // __name__ x3, job x2, code x3.
  EXPECT_EQ(d["headStats"]["numLabelPairs"], 8);
  EXPECT_EQ(d["headStats"]["minTime"], 1000);
  EXPECT_EQ(d["headStats"]["maxTime"], 2000);
  EXPECT_GE(d["headStats"]["chunkCount"], 8);
  EXPECT_EQ(d["seriesCountByMetricName"], json::parse(R"([{"name":"http_requests_total","value":6},
                            {"name":"build_info","value":1}])"));
  EXPECT_EQ(d["labelValueCountByLabelName"],
            json::parse(R"([{"name":"__name__","value":3},{"name":"code","value":3}])"));
  EXPECT_EQ(d["seriesCountByLabelName"],
            json::parse(R"([{"name":"__name__","value":8},{"name":"job","value":8}])"));
  EXPECT_EQ(d["seriesCountByLabelValuePair"],
            json::parse(R"([{"name":"__name__=http_requests_total","value":6},
                            {"name":"job=api","value":5}])"));
}

TEST(TsdbStatusTest, LimitIsCheckedAndEmptyHeadAnswers) {
  testing::TempDir dir{"tsdb-status-empty"};
  auto db = DB::Open(dir.path(), DBOptions{});
  ASSERT_TRUE(db.ok());
  http::Request r;
  r.method = "GET";
  auto ok = TsdbStatusApi((*db)->head(), r);
  EXPECT_EQ(ok.status, 200);
  json j = json::parse(ok.body);
  EXPECT_EQ(j["data"]["headStats"]["numSeries"], 0);
  EXPECT_FALSE(j["data"]["headStats"].contains("minTime"));
  EXPECT_TRUE(j["data"]["seriesCountByMetricName"].empty());
  for (const char* bad : {"limit=0", "limit=x", "limit=", "limit=100000"}) {
    r.query = bad;
    EXPECT_EQ(TsdbStatusApi((*db)->head(), r).status, 400) << bad;
  }
  r.query = "limit=3";
  EXPECT_EQ(TsdbStatusApi((*db)->head(), r).status, 200);
}

}  // namespace
}  // namespace shardwise::tsdb::api
