// The custom metrics API over real HTTPS, as the aggregator reaches it: the serving
// certificate from ServingCertificates-style files, the front-proxy client certificate
// verified against the requestheader CA, the user from X-Remote-User. Also a serving
// certificate rotation (Reload) without losing the port.
#include "operator/custommetrics/server.h"

#include <gtest/gtest.h>

#include "common/http/client.h"
#include "common/testing/test_util.h"
#include "operator/certs/pki.h"
#include "operator/custommetrics/fleet_provider.h"

namespace shardwise::custommetrics {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class AllowAll : public Authorizer {
 public:
  Result<bool> Authorize(const UserInfo& u, const Attributes&, std::string* reason) override {
    users.push_back(u.name);
    *reason = "";
    return true;
  }
  std::vector<std::string> users;
};

class CustomMetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto now = Clock::now();
    serving_ca_ = *certs::GenerateCa("serving-ca", now - 1h, now + 24h);
    proxy_ca_ = *certs::GenerateCa("front-proxy-ca", now - 1h, now + 24h);
    IssueServing("first");
    certs::CertificateRequest client;
    client.common_name = "front-proxy-client";
    client.usage = certs::Usage::kClient;
    client.not_before = now - 1h;
    client.not_after = now + 24h;
    proxy_client_ = *certs::IssueCertificate(proxy_ca_, client);
    dir_.File("requestheader-ca.crt", proxy_ca_.cert_pem);
    RequestHeaderConfig rh;
    rh.client_ca_pem = proxy_ca_.cert_pem;
    rh.allowed_names = {"front-proxy-client"};
    authn_.Update(rh);

    reports_.SetAdmission([](const endpoint::ShardKey&) { return true; });
    pools_.Upsert(
        std::make_shared<json>(json{{"metadata", {{"namespace", "mon"}, {"name", "main"}}}}));
    plan::LoadReport r;
    r.pod = "shardwise-main-0-0";
    r.active_series = 4100000;
    r.per_target = {{1, 4100000, 1, ""}};
    reports_.Put({"mon", "main", 0, 0}, r);

    server_ = std::make_unique<CustomMetricsServer>(
        CustomMetricsServer::Options{"127.0.0.1:0", dir_.path() + "/tls.crt",
                                     dir_.path() + "/tls.key",
                                     dir_.path() + "/requestheader-ca.crt"},
        &api_);
    ASSERT_TRUE(server_->Start().ok());
  }

  void IssueServing(const std::string& cn) {
    certs::CertificateRequest req;
    req.common_name = cn;
    req.dns_names = {"localhost"};
    req.ip_addresses = {"127.0.0.1"};
    req.not_before = Clock::now() - 1h;
    req.not_after = Clock::now() + 24h;
    auto leaf = *certs::IssueCertificate(serving_ca_, req);
    dir_.File("tls.key", leaf.key_pem);
    dir_.File("tls.crt", leaf.cert_pem);
  }

  Result<http::ClientResponse> Get(const std::string& path, bool with_client_cert,
                                   const certs::KeyPair* cert = nullptr) {
    http::ClientRequest req;
    req.url = "https://127.0.0.1:" + std::to_string(server_->port()) + path;
    req.tls.ca_pem = serving_ca_.cert_pem;
    if (with_client_cert) {
      const certs::KeyPair& c = cert ? *cert : proxy_client_;
      req.tls.cert_pem = c.cert_pem;
      req.tls.key_pem = c.key_pem;
    }
    req.headers = {{"X-Remote-User", "system:serviceaccount:kube-system:horizontal-pod-autoscaler"},
                   {"X-Remote-Group", "system:serviceaccounts"}};
    return client_.DoSync(req);
  }

  testing::TempDir dir_;
  certs::KeyPair serving_ca_, proxy_ca_, proxy_client_;
  kube::Store pools_, pods_;
  endpoint::ReportStore reports_;
  FleetMetricsProvider fleet_{&pools_, &pods_, &reports_, 45s};
  RequestHeaderAuthenticator authn_;
  AllowAll authz_;
  CustomMetricsApi api_{{&fleet_}, &authn_, &authz_};
  std::unique_ptr<CustomMetricsServer> server_;
  http::Client client_;
};

TEST_F(CustomMetricsServerTest, FrontProxyRequestGetsTheObjectMetric) {
  auto resp =
      Get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/mon/scrapepools.shardwise.io/main/"
          "shardwise_series",
          true);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  ASSERT_EQ(resp->status, 200) << resp->body;
  EXPECT_EQ(json::parse(resp->body)["items"][0]["value"], "4100k");
  ASSERT_EQ(authz_.users.size(), 1u);
  EXPECT_EQ(authz_.users[0], "system:serviceaccount:kube-system:horizontal-pod-autoscaler");
}

TEST_F(CustomMetricsServerTest, WithoutTheFrontProxyCertificateTheHeadersCountForNothing) {
  auto resp = Get("/apis/custom.metrics.k8s.io/v1beta2", false);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 401);
  EXPECT_EQ(json::parse(resp->body)["reason"], "Unauthorized");
  // A certificate from another CA fails the TLS handshake.
  auto now = Clock::now();
  auto other_ca = *certs::GenerateCa("other", now - 1h, now + 24h);
  certs::CertificateRequest c;
  c.common_name = "front-proxy-client";
  c.usage = certs::Usage::kClient;
  c.not_before = now - 1h;
  c.not_after = now + 24h;
  auto forged = *certs::IssueCertificate(other_ca, c);
  auto refused = Get("/apis/custom.metrics.k8s.io/v1beta2", true, &forged);
  EXPECT_TRUE(!refused.ok() || refused->status == 401);
  EXPECT_TRUE(authz_.users.empty());
}

TEST_F(CustomMetricsServerTest, ReloadServesTheRotatedCertificateOnTheSamePort) {
  int port = server_->port();
  IssueServing("second");
  ASSERT_TRUE(server_->Reload().ok());
  EXPECT_EQ(server_->port(), port);
  auto resp = Get("/apis/custom.metrics.k8s.io/v1beta2", true);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
}

}  // namespace
}  // namespace shardwise::custommetrics
