// A throwaway PKI for the simulator's HTTPS listener: a self-signed CA and a serving
// certificate for 127.0.0.1/localhost signed by it (ECDSA P-256, OpenSSL C API).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace shardwise::kubesim {

struct ServingCerts {
  std::string ca_pem;
  std::string cert_pem;  // the serving certificate
  std::string key_pem;   // its private key (PKCS#8)
};

// `ip_sans`/`dns_sans` name the server ("127.0.0.1", "localhost").
Result<ServingCerts> GenerateServingCerts(const std::vector<std::string>& ip_sans,
                                          const std::vector<std::string>& dns_sans);

}  // namespace shardwise::kubesim
