// PKI primitives for the operator's own TLS: a self-signed CA, certificates it issues
// (serving or client), and reading back what a PEM certificate says. ECDSA P-256 with
// SHA-256, random 128-bit serials, OpenSSL's C API. Times are passed in, never read from a
// clock, so rotation logic stays testable.
//
// Every function takes untrusted PEM (a user-provided Secret, a peer's certificate) and
// answers bad input with an InvalidArgument status, never a crash.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace shardwise::certs {

using Clock = std::chrono::system_clock;

struct KeyPair {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8
};

enum class Usage { kServer, kClient };

struct CertificateRequest {
  std::string common_name;
  std::vector<std::string> organizations;  // O=; Kubernetes reads groups from these
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  Usage usage = Usage::kServer;
  Clock::time_point not_before;
  Clock::time_point not_after;
};

// A self-signed CA certificate and its key.
Result<KeyPair> GenerateCa(const std::string& common_name, Clock::time_point not_before,
                           Clock::time_point not_after);

// A leaf certificate for `request`, signed by `ca`.
Result<KeyPair> IssueCertificate(const KeyPair& ca, const CertificateRequest& request);

struct CertificateInfo {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  Clock::time_point not_before;
  Clock::time_point not_after;
  bool is_ca = false;
};

// What the first certificate in `pem` says.
Result<CertificateInfo> InspectCertificate(std::string_view pem);

// OK when the first certificate in `cert_pem` chains to one of the CAs in `ca_bundle_pem`
// and is valid at `at`; `usage` is the extended key usage it must allow.
Status VerifyCertificate(std::string_view cert_pem, std::string_view ca_bundle_pem,
                         Clock::time_point at, Usage usage);

// OK when `key_pem` is the private key of the first certificate in `cert_pem`.
Status CheckKeyMatchesCertificate(std::string_view cert_pem, std::string_view key_pem);

}  // namespace shardwise::certs
