// ServingCertificates against the API simulator: creation, idempotence, leaf and CA
// rotation on an injected clock, a user-provided Secret, and caBundle injection.
#include "operator/certs/serving_certs.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/base64.h"
#include "common/testing/test_util.h"
#include "hack/kube-sim/simulator.h"

namespace shardwise::certs {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const kube::GroupVersionResource kApiServices{"apiregistration.k8s.io", "v1", "apiservices"};

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class ServingCertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kubesim::SimulatorOptions so;
    sim_ = std::make_unique<kubesim::Simulator>(so);
    ASSERT_TRUE(sim_->Start().ok());
    auto config = kube::ParseKubeconfig(sim_->Kubeconfig(false), "");
    ASSERT_TRUE(config.ok());
    config->qps = 0;
    auto c = kube::Client::Connect(*config);
    ASSERT_TRUE(c.ok());
    client_ = std::move(c).value();
    json apisvc = {{"apiVersion", "apiregistration.k8s.io/v1"},
                   {"kind", "APIService"},
                   {"metadata", {{"name", "v1beta2.custom.metrics.k8s.io"}}},
                   {"spec",
                    {{"group", "custom.metrics.k8s.io"},
                     {"version", "v1beta2"},
                     {"groupPriorityMinimum", 100},
                     {"versionPriority", 200},
                     {"service", {{"namespace", "default"}, {"name", "shardwise-operator"}}}}}};
    ASSERT_TRUE(client_->Create(kApiServices, "", apisvc).ok());
  }

  ServingCertificates::Options Opts() {
    ServingCertificates::Options o;
    o.ns = "default";
    o.dns_names = ServiceDnsNames("shardwise-operator", "default");
    o.api_services = {"v1beta2.custom.metrics.k8s.io", "v1beta1.custom.metrics.k8s.io"};
    o.cert_dir = dir_.path() + "/certs";
    o.leaf_validity = 24h * 90;
    o.ca_validity = 24h * 3650;
    o.now = [this] { return now_; };
    return o;
  }

  testing::TempDir dir_;
  std::unique_ptr<kubesim::Simulator> sim_;
  std::unique_ptr<kube::Client> client_;
  Clock::time_point now_ = Clock::from_time_t(1'800'000'000);
};

TEST_F(ServingCertsTest, CreatesSecretFilesConfigMapAndInjectsCaBundle) {
  ServingCertificates certs(*client_, Opts());
  bool changed = false;
  ASSERT_TRUE(certs.Reconcile(&changed).ok());
  EXPECT_TRUE(changed);
  std::string ca = ReadFile(certs.ca_file());
  std::string leaf = ReadFile(certs.cert_file());
  EXPECT_EQ(ca, certs.ca_bundle());
  EXPECT_TRUE(VerifyCertificate(leaf, ca, now_, Usage::kServer).ok());
  EXPECT_TRUE(CheckKeyMatchesCertificate(leaf, ReadFile(certs.key_file())).ok());
  auto info = InspectCertificate(leaf);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->dns_names, ServiceDnsNames("shardwise-operator", "default"));

  auto secret = client_->Get(kube::resources::kSecrets, "default", kDefaultSecretName);
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ((*secret)["type"], "kubernetes.io/tls");
  auto cm = client_->Get(kube::resources::kConfigMaps, "default", kCaConfigMapName);
  ASSERT_TRUE(cm.ok());
  EXPECT_EQ((*cm)["data"][kCaConfigMapKey], ca);
  auto apisvc = client_->Get(kApiServices, "", "v1beta2.custom.metrics.k8s.io");
  ASSERT_TRUE(apisvc.ok());
  EXPECT_EQ(*Base64Decode((*apisvc)["spec"]["caBundle"].get<std::string>()), ca);

  // A second pass (or a second replica) changes nothing.
  std::string rv = (*secret)["metadata"]["resourceVersion"];
  ServingCertificates again(*client_, Opts());
  ASSERT_TRUE(again.Reconcile(&changed).ok());
  ASSERT_TRUE(certs.Reconcile(&changed).ok());
  EXPECT_FALSE(changed);
  EXPECT_EQ((*client_->Get(kube::resources::kSecrets, "default",
                           kDefaultSecretName))["metadata"]["resourceVersion"],
            rv);
}

TEST_F(ServingCertsTest, RenewsTheLeafBeforeExpiryAndKeepsTheCa) {
  ServingCertificates certs(*client_, Opts());
  ASSERT_TRUE(certs.Reconcile().ok());
  std::string ca = certs.ca_bundle();
  std::string leaf = ReadFile(certs.cert_file());
  EXPECT_EQ(certs.renew_at(), InspectCertificate(leaf)->not_after - 30h * 24 - 20min);

  bool changed = true;
  now_ += 24h * 50;  // 40 days left of 90 (+1h back-dating): not yet due
  ASSERT_TRUE(certs.Reconcile(&changed).ok());
  EXPECT_FALSE(changed);
  now_ += 24h * 15;  // 25 days left: due
  ASSERT_TRUE(certs.Reconcile(&changed).ok());
  EXPECT_TRUE(changed);
  std::string renewed = ReadFile(certs.cert_file());
  EXPECT_NE(renewed, leaf);
  EXPECT_EQ(certs.ca_bundle(), ca);
  EXPECT_TRUE(VerifyCertificate(renewed, ca, now_, Usage::kServer).ok());
}

TEST_F(ServingCertsTest, ReplacesAnExpiringCaAndTrustsBothDuringTheChange) {
  ServingCertificates certs(*client_, Opts());
  ASSERT_TRUE(certs.Reconcile().ok());
  std::string old_ca = certs.ca_bundle();
  now_ += 24h * 3000;  // the CA is past two thirds of its life
  ASSERT_TRUE(certs.Reconcile().ok());
  std::string bundle = certs.ca_bundle();
  EXPECT_NE(bundle, old_ca);
  EXPECT_NE(bundle.find(old_ca), std::string::npos) << "old CA still trusted";
  EXPECT_TRUE(VerifyCertificate(ReadFile(certs.cert_file()), bundle, now_, Usage::kServer).ok());
  EXPECT_FALSE(VerifyCertificate(ReadFile(certs.cert_file()), old_ca, now_, Usage::kServer).ok());
}

TEST_F(ServingCertsTest, RepairsACorruptSecret) {
  json bad = {{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", {{"name", kDefaultSecretName}, {"namespace", "default"}}},
              {"data", {{"tls.crt", Base64Encode("junk")}, {"tls.key", "!!notbase64"}}}};
  ASSERT_TRUE(client_->Create(kube::resources::kSecrets, "default", bad).ok());
  ServingCertificates certs(*client_, Opts());
  ASSERT_TRUE(certs.Reconcile().ok());
  EXPECT_TRUE(
      VerifyCertificate(ReadFile(certs.cert_file()), certs.ca_bundle(), now_, Usage::kServer).ok());
}

TEST_F(ServingCertsTest, UserProvidedSecretIsOnlyReadAndItsCaPublished) {
  auto ca = GenerateCa("user-ca", now_ - 1h, now_ + 24h * 365);
  ASSERT_TRUE(ca.ok());
  CertificateRequest req;
  req.common_name = "shardwise-operator.default.svc";
  req.dns_names = {req.common_name};
  req.not_before = now_ - 1h;
  req.not_after = now_ + 24h * 30;
  auto leaf = IssueCertificate(*ca, req);
  ASSERT_TRUE(leaf.ok());
  json user = {{"apiVersion", "v1"},
               {"kind", "Secret"},
               {"type", "kubernetes.io/tls"},
               {"metadata", {{"name", "my-cert"}, {"namespace", "default"}}},
               {"data",
                {{"tls.crt", Base64Encode(leaf->cert_pem)},
                 {"tls.key", Base64Encode(leaf->key_pem)},
                 {"ca.crt", Base64Encode(ca->cert_pem)}}}};
  ServingCertificates::Options o = Opts();
  o.secret_name = "my-cert";
  o.user_provided = true;
  ServingCertificates certs(*client_, o);
  EXPECT_EQ(certs.Reconcile().code(), Status::Code::kNotFound);
  ASSERT_TRUE(client_->Create(kube::resources::kSecrets, "default", user).ok());
  ASSERT_TRUE(certs.Reconcile().ok());
  EXPECT_EQ(ReadFile(certs.cert_file()), leaf->cert_pem);
  EXPECT_EQ(certs.ca_bundle(), ca->cert_pem);
  auto got = client_->Get(kube::resources::kSecrets, "default", "my-cert");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE((*got)["data"].contains("ca.key")) << "a user's Secret is never written";
}

}  // namespace
}  // namespace shardwise::certs
