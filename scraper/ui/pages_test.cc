#include "scraper/ui/pages.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/http/client.h"
#include "scraper/tsdb/db.h"
#include "scraper/tsdb/testutil.h"

namespace shardwise::scraper_ui {
namespace {

TEST(ScraperPagesTest, ServesTargetsAndTsdbStatusPagesAndTheirJson) {
  tsdb::testing::TempDir dir{"scraper-ui"};
  auto db = tsdb::DB::Open(dir.path(), tsdb::DBOptions{});
  ASSERT_TRUE(db.ok());
  auto app = (*db)->NewAppender();
  storage::SeriesRef ref = 0;
  ASSERT_TRUE(app->Append(ref, Labels{{"__name__", "up"}, {"job", "node"}}, 1000, 1).ok());
  ASSERT_TRUE(app->Commit().ok());

  http::Server server({});
  RegisterPages(server, (*db)->head());
  ASSERT_TRUE(server.Start().ok());
  http::Client c;
  const std::string base = "http://" + server.address();
  for (auto [path, needle] :
       {std::pair{"/targets", "/ui/targets.js"}, std::pair{"/", "/ui/targets.js"},
        std::pair{"/tsdb-status", "/ui/tsdb-status.js"}, std::pair{"/ui/common.js", "function el("},
        std::pair{"/ui/scraper.css", ".badge"}}) {
    auto r = c.DoSync({.url = base + path});
    ASSERT_TRUE(r.ok()) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_NE(r->body.find(needle), std::string::npos) << path;
  }
  auto st = c.DoSync({.url = base + "/api/v1/status/tsdb"});
  ASSERT_TRUE(st.ok());
  auto j = nlohmann::json::parse(st->body);
  EXPECT_EQ(j["data"]["headStats"]["numSeries"], 1);
  EXPECT_EQ(j["data"]["seriesCountByLabelValuePair"][0]["name"], "__name__=up");
  EXPECT_EQ(c.DoSync({.url = base + "/ui/nope.js"})->status, 404);
  server.Stop();
}

}  // namespace
}  // namespace shardwise::scraper_ui
