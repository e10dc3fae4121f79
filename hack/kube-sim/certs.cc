#include "hack/kube-sim/certs.h"

#include <chrono>

#include "operator/certs/pki.h"

namespace shardwise::kubesim {
namespace {

// Valid from an hour ago (clock skew between the simulator and its clients) for a year.
certs::Clock::time_point NotBefore() { return certs::Clock::now() - std::chrono::hours(1); }
certs::Clock::time_point NotAfter() { return certs::Clock::now() + std::chrono::hours(24 * 365); }

CertKey FromKeyPair(certs::KeyPair k) {
  return CertKey{std::move(k.cert_pem), std::move(k.key_pem)};
}

}  // namespace

Result<CertKey> GenerateCa(const std::string& cn) {
  auto ca = certs::GenerateCa(cn, NotBefore(), NotAfter());
  if (!ca.ok()) return ca.status();
  return FromKeyPair(std::move(ca).value());
}

Result<CertKey> IssueCert(const CertKey& ca, const CertSpec& spec) {
  certs::CertificateRequest req;
  req.common_name = spec.cn;
  req.organizations = spec.orgs;
  req.dns_names = spec.dns_sans;
  req.ip_addresses = spec.ip_sans;
  req.usage = spec.client ? certs::Usage::kClient : certs::Usage::kServer;
  req.not_before = NotBefore();
  req.not_after = NotAfter();
  auto cert = certs::IssueCertificate({ca.cert_pem, ca.key_pem}, req);
  if (!cert.ok()) return cert.status();
  return FromKeyPair(std::move(cert).value());
}

}  // namespace shardwise::kubesim
