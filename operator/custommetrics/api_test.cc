// The custom metrics API over the fleet provider, with stores filled directly: discovery,
// Object and Pods metrics in v1beta2 and v1beta1, Quantity formatting, metav1.Status errors,
// and request-header authentication of the front-proxy certificate.
#include "operator/custommetrics/api.h"

#include <gtest/gtest.h>

#include "operator/certs/pki.h"
#include "operator/custommetrics/fake_auth.h"
#include "operator/custommetrics/fleet_provider.h"

namespace shardwise::custommetrics {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const Clock::time_point kNow = Clock::from_time_t(1'800'000'000);

json Obj(const std::string& ns, const std::string& name, json labels = json::object()) {
  return {{"metadata", {{"namespace", ns}, {"name", name}, {"labels", labels}}}};
}

class CustomMetricsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reports_.SetAdmission([](const endpoint::ShardKey&) { return true; });
    pools_.Upsert(std::make_shared<json>(Obj("mon", "main")));
    pools_.Upsert(std::make_shared<json>(Obj("mon", "idle")));
    for (int s = 0; s < 2; ++s) {
      std::string pod = "shardwise-main-0-" + std::to_string(s);
      pods_.Upsert(std::make_shared<json>(Obj("mon", pod, {{"shardwise.io/pool", "main"}})));
      plan::LoadReport r;
      r.pod = pod;
      r.shard = s;
      r.active_series = 1000.5 + s;
      r.samples_per_second = 33.3337;
      r.per_target = {{static_cast<uint64_t>(s + 1), r.active_series, 1, ""}};
      reports_.Put({"mon", "main", s, 0}, r, kNow - 5s);
    }
    pods_.Upsert(std::make_shared<json>(Obj("mon", "web-0", {{"app", "web"}})));
  }

  http::Response Get(const std::string& path, const std::string& query = "",
                     const std::string& user = "hpa") {
    http::Request r;
    r.method = "GET";
    r.path = path;
    r.query = query;
    if (!user.empty()) r.headers.emplace_back("X-Test-User", user);
    return api_.Serve(r);
  }

  kube::Store pools_, pods_;
  endpoint::ReportStore reports_;
  FleetMetricsProvider fleet_{&pools_, &pods_, &reports_, 45s, [] { return kNow; }};
  FakeAuthn authn_;
  FakeAuthz authz_;
  CustomMetricsApi api_{{&fleet_}, &authn_, &authz_};
};

TEST_F(CustomMetricsApiTest, DiscoveryListsTheFleetMetrics) {
  for (const char* v : {"v1beta2", "v1beta1"}) {
    auto resp = Get(std::string("/apis/custom.metrics.k8s.io/") + v);
    ASSERT_EQ(resp.status, 200) << resp.body;
    json list = json::parse(resp.body);
    EXPECT_EQ(list["kind"], "APIResourceList");
    EXPECT_EQ(list["groupVersion"], std::string("custom.metrics.k8s.io/") + v);
    std::set<std::string> names;
    for (const auto& r : list["resources"]) {
      names.insert(r["name"]);
      EXPECT_EQ(r["kind"], "MetricValueList");
      EXPECT_EQ(r["namespaced"], true);
      EXPECT_EQ(r["verbs"], json::array({"get"}));
    }
    EXPECT_EQ(names, (std::set<std::string>{"scrapepools.shardwise.io/shardwise_series",
                                            "scrapepools.shardwise.io/shardwise_samples_per_second",
                                            "pods/shardwise_head_series",
                                            "pods/shardwise_samples_per_second"}));
  }
  EXPECT_FALSE(authz_.last.resource_request);
  auto group = json::parse(Get("/apis/custom.metrics.k8s.io").body);
  EXPECT_EQ(group["preferredVersion"]["version"], "v1beta2");
}

TEST_F(CustomMetricsApiTest, ObjectMetricOnAPool) {
  auto resp =
      Get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/mon/scrapepools.shardwise.io/main/"
          "shardwise_series");
  ASSERT_EQ(resp.status, 200) << resp.body;
  json list = json::parse(resp.body);
  EXPECT_EQ(list["kind"], "MetricValueList");
  EXPECT_EQ(list["apiVersion"], "custom.metrics.k8s.io/v1beta2");
  ASSERT_EQ(list["items"].size(), 1u);
  const json& item = list["items"][0];
  EXPECT_EQ(item["describedObject"], json({{"kind", "ScrapePool"},
                                           {"namespace", "mon"},
                                           {"name", "main"},
                                           {"apiVersion", "shardwise.io/v1alpha1"}}));
  EXPECT_EQ(item["metric"]["name"], "shardwise_series");
  EXPECT_EQ(item["value"], "2002");  // 1000.5 + 1001.5
  EXPECT_EQ(authz_.last.resource, "scrapepools.shardwise.io");
  EXPECT_EQ(authz_.last.subresource, "shardwise_series");
  EXPECT_EQ(authz_.last.name, "main");
  EXPECT_EQ(authz_.last.ns, "mon");

  auto v1 = json::parse(Get("/apis/custom.metrics.k8s.io/v1beta1/namespaces/mon/"
                            "scrapepools.shardwise.io/main/shardwise_samples_per_second")
                            .body);
  EXPECT_EQ(v1["items"][0]["metricName"], "shardwise_samples_per_second");
  EXPECT_EQ(v1["items"][0]["value"], "66667m");  // 2 × 33.3337, milli precision
}

TEST_F(CustomMetricsApiTest, PodsMetricBySelector) {
  auto resp = Get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/mon/pods/*/shardwise_head_series",
                  "labelSelector=shardwise.io%2Fpool%3Dmain");
  ASSERT_EQ(resp.status, 200) << resp.body;
  json list = json::parse(resp.body);
  ASSERT_EQ(list["items"].size(), 2u);
  EXPECT_EQ(list["items"][0]["describedObject"]["name"], "shardwise-main-0-0");
  EXPECT_EQ(list["items"][0]["describedObject"]["kind"], "Pod");
  EXPECT_EQ(list["items"][0]["value"], "1000500m");
  EXPECT_EQ(list["items"][1]["value"], "1001500m");
  auto none = json::parse(
      Get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/mon/pods/*/shardwise_head_series",
          "labelSelector=app%3Dweb")
          .body);
  EXPECT_EQ(none["items"].size(), 0u);
  auto named =
      Get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/mon/pods/shardwise-main-0-1/"
          "shardwise_samples_per_second");
  EXPECT_EQ(json::parse(named.body)["items"][0]["value"], "33334m");
}

TEST_F(CustomMetricsApiTest, ErrorsAreStatusObjects) {
  auto check = [&](const http::Response& r, int code, const std::string& reason) {
    EXPECT_EQ(r.status, code) << r.body;
    json st = json::parse(r.body);
    EXPECT_EQ(st["kind"], "Status");
    EXPECT_EQ(st["status"], "Failure");
    EXPECT_EQ(st["code"], code);
    EXPECT_EQ(st["reason"], reason);
  };
  const std::string base = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/mon/";
  check(Get(base + "scrapepools.shardwise.io/main/shardwise_series", "", ""), 401, "Unauthorized");
  check(Get(base + "scrapepools.shardwise.io/main/shardwise_series", "", "mallory"), 403,
        "Forbidden");
  check(Get(base + "scrapepools.shardwise.io/nope/shardwise_series"), 404, "NotFound");
  check(Get(base + "scrapepools.shardwise.io/idle/shardwise_series"), 404, "NotFound");
  check(Get(base + "scrapepools.shardwise.io/main/cpu_usage"), 404, "NotFound");
  check(Get(base + "pods/*/shardwise_head_series", "labelSelector=a%20in%20b"), 400, "BadRequest");
  check(Get("/apis/custom.metrics.k8s.io/v2/namespaces/mon/pods/*/x"), 404, "NotFound");
  check(Get(base + "a/b/c/d/e/f"), 404, "NotFound");
  http::Request post;
  post.method = "POST";
  post.path = base + "pods/*/shardwise_head_series";
  post.headers.emplace_back("X-Test-User", "hpa");
  check(api_.Serve(post), 405, "MethodNotAllowed");
}

TEST(QuantityTest, MilliPrecision) {
  EXPECT_EQ(ToMilli(1.5), 1500);
  EXPECT_EQ(ToMilli(std::nan("")), 0);
}

class RequestHeaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = *certs::GenerateCa("front-proxy-ca", kNow - 1h, kNow + 24h);
    certs::CertificateRequest req;
    req.common_name = "front-proxy-client";
    req.usage = certs::Usage::kClient;
    req.not_before = kNow - 1h;
    req.not_after = kNow + 24h;
    client_ = *certs::IssueCertificate(ca_, req);
    json cm = {{"data",
                {{"requestheader-client-ca-file", ca_.cert_pem},
                 {"requestheader-allowed-names", R"(["front-proxy-client"])"},
                 {"requestheader-username-headers", R"(["X-Remote-User"])"},
                 {"requestheader-group-headers", R"(["X-Remote-Group"])"},
                 {"requestheader-extra-headers-prefix", R"(["X-Remote-Extra-"])"}}}};
    auto config = RequestHeaderConfig::FromConfigMap(cm);
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    authn_.Update(*config);
  }
  http::Request Proxied(const std::string& cert_pem, const std::string& cn) {
    http::Request r;
    r.peer_certificate.subject_cn = cn;
    r.peer_certificate.chain_pem = {cert_pem};
    r.headers = {{"X-Remote-User", "system:serviceaccount:kube-system:horizontal-pod-autoscaler"},
                 {"X-Remote-Group", "system:serviceaccounts"},
                 {"x-remote-group", "system:authenticated"},
                 {"X-Remote-Extra-Scopes", "a"}};
    return r;
  }
  certs::KeyPair ca_, client_;
  RequestHeaderAuthenticator authn_{[] { return kNow; }};
};

TEST_F(RequestHeaderTest, FrontProxyCertificateNamesTheUser) {
  auto u = authn_.Authenticate(Proxied(client_.cert_pem, "front-proxy-client"));
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->name, "system:serviceaccount:kube-system:horizontal-pod-autoscaler");
  EXPECT_EQ(u->groups,
            (std::vector<std::string>{"system:serviceaccounts", "system:authenticated"}));
  EXPECT_EQ(u->extra["scopes"], std::vector<std::string>{"a"});
}

TEST_F(RequestHeaderTest, RejectsWhatAnExtensionApiServerRejects) {
  http::Request none = Proxied(client_.cert_pem, "front-proxy-client");
  none.peer_certificate = {};
  EXPECT_FALSE(authn_.Authenticate(none).ok());
  EXPECT_FALSE(authn_.Authenticate(Proxied(client_.cert_pem, "someone-else")).ok());
  auto other_ca = *certs::GenerateCa("other", kNow - 1h, kNow + 24h);
  certs::CertificateRequest req;
  req.common_name = "front-proxy-client";
  req.usage = certs::Usage::kClient;
  req.not_before = kNow - 1h;
  req.not_after = kNow + 24h;
  auto forged = *certs::IssueCertificate(other_ca, req);
  EXPECT_FALSE(authn_.Authenticate(Proxied(forged.cert_pem, "front-proxy-client")).ok());
  http::Request no_user = Proxied(client_.cert_pem, "front-proxy-client");
  no_user.headers.clear();
  EXPECT_FALSE(authn_.Authenticate(no_user).ok());
  EXPECT_FALSE(RequestHeaderConfig::FromConfigMap({{"data", json::object()}}).ok());
  EXPECT_FALSE(RequestHeaderConfig::FromConfigMap(
                   {{"data",
                     {{"requestheader-client-ca-file", "x"},
                      {"requestheader-allowed-names", "{\"not\": \"a list\"}"}}}})
                   .ok());
}

TEST(SubjectAccessReviewTest, ReviewBodies) {
  Attributes a;
  a.version = "v1beta2";
  a.group = kGroup;
  a.resource = "pods";
  a.subresource = "shardwise_head_series";
  a.name = "*";
  a.ns = "mon";
  json r = SubjectAccessReviewAuthorizer::Review({"u", {"g"}, {}}, a);
  EXPECT_EQ(r["kind"], "SubjectAccessReview");
  EXPECT_EQ(r["spec"]["user"], "u");
  EXPECT_EQ(r["spec"]["resourceAttributes"]["resource"], "pods");
  EXPECT_EQ(r["spec"]["resourceAttributes"]["namespace"], "mon");
  a.resource_request = false;
  a.path = "/apis/custom.metrics.k8s.io/v1beta2";
  r = SubjectAccessReviewAuthorizer::Review({"u", {"g"}, {}}, a);
  EXPECT_EQ(r["spec"]["nonResourceAttributes"]["path"], "/apis/custom.metrics.k8s.io/v1beta2");
}

}  // namespace
}  // namespace shardwise::custommetrics
