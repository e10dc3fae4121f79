// ServiceAccountTokens: issues and checks ServiceAccount tokens, as kube-apiserver's
// TokenRequest endpoint and its service-account authenticator do.
//
// Bound tokens (TokenRequest, projected volumes): RS256 JWTs with iss
// kServiceAccountIssuer, sub "system:serviceaccount:NS:NAME", aud, exp/iat/nbf, jti and a
// "kubernetes.io" claim naming the namespace, the ServiceAccount {name, uid} and the bound
// Pod or Secret {name, uid}. A bound token is valid until it expires, and only while the
// ServiceAccount and bound object exist with the same uids.
// Legacy tokens (kubernetes.io/service-account-token Secrets): JWTs with iss
// "kubernetes/serviceaccount" and no expiry, valid while the Secret holds exactly that
// token and the ServiceAccount keeps its uid. They are valid for the API server's
// audiences only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "hack/kube-sim/auth/jwt.h"
#include "hack/kube-sim/auth/user.h"
#include "hack/kube-sim/cluster.h"
#include "hack/kube-sim/kubelet/volumes.h"  // IssuedToken, TokenIssuer: the kubelet's hook

namespace shardwise::kubesim {

struct TokenAuthResult {
  UserInfo user;
  std::vector<std::string> audiences;  // the wanted audiences the token carries
};

class ServiceAccountTokens {
 public:
  // The signing key is generated on first use (RSA generation takes a while, and most
  // embedded simulators never issue a ServiceAccount token).
  explicit ServiceAccountTokens(Cluster& cluster);

  // TokenRequest. `bound_kind` is "", "Pod" or "Secret"; a non-empty bound_uid must match.
  // 404 when the ServiceAccount or bound object is missing, 422 for bad arguments.
  ApiResult<IssuedToken> Issue(const std::string& ns, const std::string& service_account,
                               std::vector<std::string> audiences, long long expiration_seconds,
                               const std::string& bound_kind, const std::string& bound_name,
                               const std::string& bound_uid);
  // The token a legacy token Secret holds.
  std::string IssueLegacy(const std::string& ns, const std::string& service_account,
                          const std::string& sa_uid, const std::string& secret_name);
  // `wanted` empty = the API server's audiences. The error message is TokenReview's
  // status.error.
  Result<TokenAuthResult> Authenticate(const std::string& token,
                                       const std::vector<std::string>& wanted);
  // The kubelet's hook (kubelet/volumes.h): tokens bound to the pod.
  TokenIssuer IssuerFn();

  // Tests move the clock to check expiry without waiting.
  void SetClockForTest(std::function<int64_t()> now_unix) { now_ = std::move(now_unix); }
  // The signing key; null only if key generation failed.
  const JwtKey* key();

 private:
  Result<TokenAuthResult> CheckLegacy(const std::string& token, const json& claims,
                                      const std::vector<std::string>& wanted);
  ApiResult<json> Lookup(const std::string& plural, const std::string& ns, const std::string& name);

  Cluster& cluster_;
  std::once_flag key_once_;
  std::shared_ptr<JwtKey> key_;
  std::function<int64_t()> now_;
};

}  // namespace shardwise::kubesim
