#include "operator/certs/pki.h"

#include <gtest/gtest.h>

namespace shardwise::certs {
namespace {

using namespace std::chrono_literals;

const Clock::time_point kNow = Clock::from_time_t(1'800'000'000);

KeyPair Ca() {
  auto ca = GenerateCa("test-ca", kNow - 1h, kNow + 24h * 365);
  EXPECT_TRUE(ca.ok()) << ca.status().ToString();
  return *ca;
}

CertificateRequest Server(std::vector<std::string> dns) {
  CertificateRequest r;
  r.common_name = dns.empty() ? "server" : dns[0];
  r.dns_names = std::move(dns);
  r.ip_addresses = {"127.0.0.1"};
  r.not_before = kNow - 1h;
  r.not_after = kNow + 24h;
  return r;
}

TEST(PkiTest, IssuedServingCertificateChainsToItsCaAndSaysWhatWasAsked) {
  KeyPair ca = Ca();
  auto leaf = IssueCertificate(ca, Server({"op.ns.svc", "op"}));
  ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
  EXPECT_TRUE(VerifyCertificate(leaf->cert_pem, ca.cert_pem, kNow, Usage::kServer).ok());
  EXPECT_TRUE(CheckKeyMatchesCertificate(leaf->cert_pem, leaf->key_pem).ok());
  auto info = InspectCertificate(leaf->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "op.ns.svc");
  EXPECT_EQ(info->dns_names, (std::vector<std::string>{"op.ns.svc", "op"}));
  EXPECT_FALSE(info->is_ca);
  EXPECT_EQ(info->not_after, kNow + 24h);
  auto ca_info = InspectCertificate(ca.cert_pem);
  ASSERT_TRUE(ca_info.ok());
  EXPECT_TRUE(ca_info->is_ca);
}

TEST(PkiTest, VerificationFailsOutsideValidityForOtherCasAndWrongUsage) {
  KeyPair ca = Ca();
  auto leaf = IssueCertificate(ca, Server({"op"}));
  ASSERT_TRUE(leaf.ok());
  EXPECT_FALSE(VerifyCertificate(leaf->cert_pem, ca.cert_pem, kNow + 48h, Usage::kServer).ok());
  EXPECT_FALSE(VerifyCertificate(leaf->cert_pem, Ca().cert_pem, kNow, Usage::kServer).ok());
  EXPECT_FALSE(VerifyCertificate(leaf->cert_pem, ca.cert_pem, kNow, Usage::kClient).ok());
  // A bundle with another CA first still verifies.
  EXPECT_TRUE(
      VerifyCertificate(leaf->cert_pem, Ca().cert_pem + ca.cert_pem, kNow, Usage::kServer).ok());
}

TEST(PkiTest, ClientCertificateCarriesCommonNameAndOrganizations) {
  KeyPair ca = Ca();
  CertificateRequest r = Server({});
  r.common_name = "front-proxy-client";
  r.organizations = {"system:masters", "ops"};
  r.ip_addresses.clear();
  r.usage = Usage::kClient;
  auto leaf = IssueCertificate(ca, r);
  ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
  EXPECT_TRUE(VerifyCertificate(leaf->cert_pem, ca.cert_pem, kNow, Usage::kClient).ok());
  auto info = InspectCertificate(leaf->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "front-proxy-client");
  EXPECT_EQ(info->organizations, (std::vector<std::string>{"system:masters", "ops"}));
}

TEST(PkiTest, BadInputIsAnErrorNotACrash) {
  KeyPair ca = Ca();
  EXPECT_FALSE(InspectCertificate("").ok());
  EXPECT_FALSE(
      InspectCertificate("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n").ok());
  EXPECT_FALSE(VerifyCertificate("garbage", ca.cert_pem, kNow, Usage::kServer).ok());
  EXPECT_FALSE(VerifyCertificate(ca.cert_pem, "garbage", kNow, Usage::kServer).ok());
  EXPECT_FALSE(CheckKeyMatchesCertificate(ca.cert_pem, Ca().key_pem).ok());
  EXPECT_FALSE(CheckKeyMatchesCertificate(ca.cert_pem, "garbage").ok());
  EXPECT_FALSE(IssueCertificate({"x", "y"}, Server({"op"})).ok());
  CertificateRequest empty = Server({"op"});
  empty.not_after = empty.not_before;
  EXPECT_FALSE(IssueCertificate(ca, empty).ok());
  // A name must not smuggle in another SAN.
  EXPECT_FALSE(IssueCertificate(ca, Server({"op,DNS:evil.example"})).ok());
  CertificateRequest bad_ip = Server({"op"});
  bad_ip.ip_addresses = {"1.2.3.4,DNS:evil"};
  EXPECT_FALSE(IssueCertificate(ca, bad_ip).ok());
}

}  // namespace
}  // namespace shardwise::certs
