// RS256 JSON Web Tokens (RFC 7519 compact form) for ServiceAccount tokens: the
// simulator signs with an RSA key it generates at start, as kube-apiserver signs with
// --service-account-signing-key-file. Verification checks the header (alg RS256) and
// the signature only; claims (exp, aud, bound objects) are the caller's business.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/base64.h"
#include "common/status.h"
#include "hack/kube-sim/api_error.h"

namespace shardwise::kubesim {

class JwtKey {
 public:
  // A fresh 2048-bit RSA key.
  static Result<std::shared_ptr<JwtKey>> Generate();
  ~JwtKey();
  JwtKey(const JwtKey&) = delete;
  JwtKey& operator=(const JwtKey&) = delete;

  // "<header>.<claims>.<signature>" with header {"alg":"RS256","kid":...}.
  std::string Sign(const json& claims) const;
  // The claims of a well-formed token signed by this key, or InvalidArgument.
  Result<json> Verify(std::string_view token) const;
  const std::string& public_key_pem() const { return public_pem_; }
  const std::string& key_id() const { return kid_; }

 private:
  struct Impl;
  explicit JwtKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string public_pem_;
  std::string kid_;
};

}  // namespace shardwise::kubesim
