// The sample app over real HTTP: metrics, control endpoints, the scrape log.
#include "hack/sample-app/sample_app.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/http/client.h"
#include "common/testing/test_util.h"

namespace shardwise::sampleapp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SampleAppTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(app_.Start().ok()); }
  http::ClientResponse Do(const std::string& method, const std::string& path) {
    http::ClientRequest r;
    r.method = method;
    r.url = "http://127.0.0.1:" + std::to_string(app_.port()) + path;
    auto resp = client_.DoSync(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? resp.value() : http::ClientResponse{};
  }
  SampleApp app_{"127.0.0.1:0"};
  http::Client client_;
};

TEST_F(SampleAppTest, ServesMetricsAndLogsScrapes) {
  auto m = Do("GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_THAT(m.body, HasSubstr("sample_app_scrapes_total 1"));
  EXPECT_THAT(m.body, HasSubstr("# TYPE http_request_duration_seconds histogram"));
  m = Do("GET", "/metrics");
  EXPECT_THAT(m.body,
              HasSubstr("http_requests_total{code=\"200\",method=\"GET\",path=\"/metrics\"} 1"));
  auto log = nlohmann::json::parse(Do("GET", "/scrapes").body);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_THAT(log[0]["remote"].get<std::string>(), HasSubstr("127.0.0.1:"));
  EXPECT_EQ(Do("GET", "/healthz").status, 200);
  EXPECT_EQ(Do("GET", "/readyz").status, 200);
}

TEST_F(SampleAppTest, ControlSetsSeriesAndLoad) {
  EXPECT_EQ(Do("GET", "/control?series=3").status, 405);
  EXPECT_EQ(Do("POST", "/control?series=abc").status, 400);
  EXPECT_EQ(Do("POST", "/control?rps=-1").status, 400);
  EXPECT_EQ(Do("POST", "/control?series=3&rps=1000").status, 200);
  auto body = Do("GET", "/metrics").body;
  EXPECT_THAT(body, HasSubstr("sample_app_synthetic{index=\"2\"} 2"));
  EXPECT_THAT(body, Not(HasSubstr("sample_app_synthetic{index=\"3\"}")));
  EXPECT_TRUE(testing::WaitFor(
      [&] { return Do("GET", "/metrics").body.find("path=\"/synthetic\"") != std::string::npos; }));
  EXPECT_EQ(Do("POST", "/control?series=0").status, 200);
  EXPECT_THAT(Do("GET", "/metrics").body, Not(HasSubstr("sample_app_synthetic{")));
}

}  // namespace
}  // namespace shardwise::sampleapp
