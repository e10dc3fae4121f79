// Authenticator: who sent a request, as kube-apiserver's authentication chain and
// impersonation filter decide it.
//  - TLS client certificate verified against the cluster CA: user = CN, groups = O
//    (the admin kubeconfig's certificate is CN=kubernetes-admin, O=system:masters);
//  - bearer tokens: the static tokens from the options (kube-apiserver's token file),
//    then ServiceAccount tokens (legacy and bound; audience must include the API
//    server's);
//  - no credentials: on the plain-HTTP listener the caller is the all-powerful
//    "system:unsecured" (kube-apiserver's old insecure port); on HTTPS only the health
//    and version endpoints accept anonymous callers (as an AuthenticationConfiguration
//    with anonymous.conditions on /healthz, /livez, /readyz does), everything else is 401.
//  - Impersonate-User / -Group / -Uid / -Extra-* headers switch identity when the caller
//    may `impersonate` the users/groups/serviceaccounts/uids/userextras named.
// Every authenticated identity also gets system:authenticated.
#pragma once

#include <map>
#include <string>

#include "common/http/message.h"
#include "hack/kube-sim/auth/rbac.h"
#include "hack/kube-sim/auth/service_account_tokens.h"

namespace shardwise::kubesim {

class Authenticator {
 public:
  // `static_tokens`: bearer token → user.
  Authenticator(ServiceAccountTokens& sa_tokens, RbacAuthorizer& authorizer,
                std::map<std::string, UserInfo> static_tokens)
      : sa_tokens_(sa_tokens), authorizer_(authorizer), static_tokens_(std::move(static_tokens)) {}

  // 401 for missing/bad credentials, 403 for a refused impersonation.
  ApiResult<UserInfo> Authenticate(const http::Request& req);
  // A bearer token alone (TokenReview uses the service-account path directly).
  ApiResult<UserInfo> AuthenticateToken(const std::string& token);

 private:
  ApiResult<UserInfo> Impersonate(const http::Request& req, const UserInfo& caller);

  ServiceAccountTokens& sa_tokens_;
  RbacAuthorizer& authorizer_;
  const std::map<std::string, UserInfo> static_tokens_;
};

}  // namespace shardwise::kubesim
