// A throwaway PKI for the simulator: self-signed CAs and certificates they sign — the HTTPS
// serving certificate, the admin's client certificate, the aggregator's front-proxy client
// certificate — and test servers' certificates; valid from an hour ago for a year. Issued by
// the operator's PKI primitives (operator/certs/pki.h, ECDSA P-256).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace shardwise::kubesim {

struct CertKey {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8
};

// A self-signed CA named `cn`.
Result<CertKey> GenerateCa(const std::string& cn);

struct CertSpec {
  std::string cn;
  std::vector<std::string> orgs;  // subject O entries (Kubernetes groups)
  std::vector<std::string> ip_sans;
  std::vector<std::string> dns_sans;
  bool client = false;  // clientAuth instead of serverAuth
};
Result<CertKey> IssueCert(const CertKey& ca, const CertSpec& spec);

}  // namespace shardwise::kubesim
