#include "scraper/discovery/http_sd.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "common/http/server.h"
#include "scraper/discovery/sd_test_util.h"

namespace shardwise::sd {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::Updates;
using testing::WaitFor;

class HttpSdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Handle("/sd", http::Simple([this](const http::Request& r) {
                     std::lock_guard lock(mu_);
                     ++requests_;
                     if (mode_ == "error") return http::Response::Text(500, "boom");
                     if (mode_ == "badjson") return http::Response::Json(200, "[{");
                     if (mode_ == "text") return http::Response::Text(200, "[]");
                     if (!etag_.empty() && r.Header("If-None-Match") == etag_) {
                       ++not_modified_;
                       return http::Response::Text(304, "");
                     }
                     http::Response resp = http::Response::Json(200, body_);
                     if (!etag_.empty()) resp.With("ETag", etag_);
                     return resp;
                   }));
    ASSERT_TRUE(server_.Start().ok());
    url_ = "http://" + server_.address() + "/sd";
  }
  void TearDown() override { server_.Stop(); }
  void Serve(std::string mode, std::string body = "", std::string etag = "") {
    std::lock_guard lock(mu_);
    mode_ = std::move(mode);
    body_ = std::move(body);
    etag_ = std::move(etag);
  }
  int not_modified() {
    std::lock_guard lock(mu_);
    return not_modified_;
  }

  http::Server server_{{}};
  http::Client client_;
  std::string url_;
  std::mutex mu_;
  std::string mode_ = "ok", body_ = "[]", etag_;
  int requests_ = 0;
  int not_modified_ = 0;
};

TEST_F(HttpSdTest, ConditionalRefreshAndLastGoodSet) {
  Serve("ok", R"([{"targets": ["a:1"], "labels": {"x": "y"}}])", "\"v1\"");
  // A long interval: the first refresh happens on Start, the rest are driven by the test.
  HttpSdSource source({.url = url_, .refresh_interval = 1h}, client_);
  Updates updates;
  source.Start(updates.Fn());
  ASSERT_TRUE(WaitFor([&] { return updates.count() == 1; }));
  auto groups = updates.last();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].targets[0].Get("__address__"), "a:1");
  EXPECT_EQ(groups[0].labels.Get("x"), "y");
  EXPECT_EQ(groups[0].labels.Get("__meta_url"), url_);

  // Unchanged: the server answers 304 and nothing is reported.
  ASSERT_TRUE(source.Refresh().ok());
  EXPECT_EQ(not_modified(), 1);
  EXPECT_EQ(updates.count(), 1u);

  // Failures keep the last set and are visible.
  Serve("error");
  Status st = source.Refresh();
  EXPECT_THAT(st.message(), HasSubstr("500"));
  EXPECT_FALSE(source.last_error().ok());
  Serve("badjson");
  EXPECT_FALSE(source.Refresh().ok());
  Serve("text");
  EXPECT_THAT(source.Refresh().message(), HasSubstr("content type"));
  EXPECT_EQ(updates.count(), 1u);

  // A new version is reported.
  Serve("ok", R"([{"targets": ["b:1"]}])", "\"v2\"");
  ASSERT_TRUE(source.Refresh().ok());
  EXPECT_TRUE(source.last_error().ok());
  ASSERT_EQ(updates.count(), 2u);
  EXPECT_EQ(updates.last()[0].targets[0].Get("__address__"), "b:1");
  source.Stop();
}

TEST_F(HttpSdTest, UnreachableServerKeepsNothingAndReportsError) {
  HttpSdSource source({.url = "http://127.0.0.1:1/sd", .refresh_interval = 1h}, client_);
  Status st = source.Refresh();
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(source.last_error().ok());
}

TEST_F(HttpSdTest, PeriodicRefreshPicksUpChanges) {
  Serve("ok", R"([{"targets": ["a:1"]}])");
  HttpSdSource source({.url = url_, .refresh_interval = 10ms}, client_);
  Updates updates;
  source.Start(updates.Fn());
  ASSERT_TRUE(WaitFor([&] { return updates.count() == 1; }));
  Serve("ok", R"([{"targets": ["a:2"]}])");
  ASSERT_TRUE(WaitFor([&] {
    auto g = updates.last();
    return !g.empty() && g[0].targets[0].Get("__address__") == "a:2";
  }));
  source.Stop();
}

}  // namespace
}  // namespace shardwise::sd
