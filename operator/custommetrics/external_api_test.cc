// The external metrics API over a fake provider: discovery, ExternalMetricValueList with
// Quantities, the label selector handed to the provider, metav1.Status errors (401, 403, 404,
// 400, 503 for a shard that did not answer) and the SubjectAccessReview attributes.
#include "operator/custommetrics/external_api.h"

#include <gtest/gtest.h>

#include "operator/custommetrics/fake_auth.h"

namespace shardwise::custommetrics {
namespace {

using nlohmann::json;

class FakeProvider : public ExternalMetricsProvider {
 public:
  std::vector<std::string> ListExternalMetrics() const override {
    return {"queue_depth", "stuck_metric"};
  }
  Result<std::vector<ExternalMetricValue>> GetExternalMetric(
      const std::string& ns, const std::string& metric,
      const opdiscovery::LabelSelector& selector) const override {
    last_ns = ns;
    last_selector = selector;
    if (metric == "stuck_metric") {
      return Status::DeadlineExceeded("shard mon/main/1: remote read: timed out");
    }
    ExternalMetricValue v;
    v.metric = metric;
    v.labels = {{"queue", "orders"}};
    v.timestamp = Clock::from_time_t(1'800'000'000);
    v.window_seconds = 60;
    v.milli_value = 1500;
    return std::vector<ExternalMetricValue>{v};
  }
  mutable std::string last_ns;
  mutable opdiscovery::LabelSelector last_selector;
};

class ExternalMetricsApiTest : public ::testing::Test {
 protected:
  http::Response Get(const std::string& path, const std::string& query = "",
                     const std::string& user = "hpa") {
    http::Request r;
    r.method = "GET";
    r.path = path;
    r.query = query;
    if (!user.empty()) r.headers.emplace_back("X-Test-User", user);
    return api_.Serve(r);
  }
  FakeProvider provider_;
  FakeAuthn authn_;
  FakeAuthz authz_;
  ExternalMetricsApi api_{{&provider_}, &authn_, &authz_};
};

TEST_F(ExternalMetricsApiTest, DiscoveryAndGroup) {
  auto group = json::parse(Get("/apis/external.metrics.k8s.io").body);
  EXPECT_EQ(group["kind"], "APIGroup");
  EXPECT_EQ(group["preferredVersion"]["groupVersion"], "external.metrics.k8s.io/v1beta1");
  auto r = Get("/apis/external.metrics.k8s.io/v1beta1");
  ASSERT_EQ(r.status, 200) << r.body;
  auto list = json::parse(r.body);
  EXPECT_EQ(list["kind"], "APIResourceList");
  ASSERT_EQ(list["resources"].size(), 2u);
  EXPECT_EQ(list["resources"][0]["name"], "queue_depth");
  EXPECT_EQ(list["resources"][0]["kind"], "ExternalMetricValueList");
  EXPECT_TRUE(list["resources"][0]["namespaced"]);
  EXPECT_FALSE(authz_.last.resource_request);
}

TEST_F(ExternalMetricsApiTest, ValuesWithTheSelector) {
  auto r = Get("/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/queue_depth",
               "labelSelector=queue%3Dorders");
  ASSERT_EQ(r.status, 200) << r.body;
  auto list = json::parse(r.body);
  EXPECT_EQ(list["kind"], "ExternalMetricValueList");
  EXPECT_EQ(list["apiVersion"], "external.metrics.k8s.io/v1beta1");
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["metricName"], "queue_depth");
  EXPECT_EQ(list["items"][0]["metricLabels"]["queue"], "orders");
  EXPECT_EQ(list["items"][0]["value"], "1500m");
  EXPECT_EQ(list["items"][0]["windowSeconds"], 60);
  EXPECT_EQ(provider_.last_ns, "shop");
  EXPECT_TRUE(provider_.last_selector.Matches({{"queue", "orders"}}));
  EXPECT_FALSE(provider_.last_selector.Matches({{"queue", "invoices"}}));
  EXPECT_EQ(authz_.last.group, "external.metrics.k8s.io");
  EXPECT_EQ(authz_.last.resource, "queue_depth");
  EXPECT_EQ(authz_.last.ns, "shop");
}

TEST_F(ExternalMetricsApiTest, Errors) {
  const std::string base = "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/";
  EXPECT_EQ(Get(base + "queue_depth", "", "").status, 401);
  auto denied = Get(base + "queue_depth", "", "mallory");
  EXPECT_EQ(denied.status, 403);
  EXPECT_NE(denied.body.find("mallory"), std::string::npos) << denied.body;
  EXPECT_EQ(Get(base + "unknown").status, 404);
  EXPECT_EQ(Get("/apis/external.metrics.k8s.io/v2/namespaces/shop/queue_depth").status, 404);
  EXPECT_EQ(Get(base + "queue_depth", "labelSelector=%3D%3D%3D").status, 400);
  auto stuck = Get(base + "stuck_metric");
  EXPECT_EQ(stuck.status, 503);
  auto status = json::parse(stuck.body);
  EXPECT_EQ(status["kind"], "Status");
  EXPECT_EQ(status["reason"], "ServiceUnavailable");
  EXPECT_NE(status["message"].get<std::string>().find("mon/main/1"), std::string::npos);
}

}  // namespace
}  // namespace shardwise::custommetrics
