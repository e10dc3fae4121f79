// AuthApi: the endpoints answered by the auth layer rather than the store, all
// create-only and never persisted, as on kube-apiserver:
//   authentication.k8s.io/v1 tokenreviews, selfsubjectreviews (`kubectl auth whoami`);
//   authorization.k8s.io/v1 subjectaccessreviews, localsubjectaccessreviews,
//     selfsubjectaccessreviews (`kubectl auth can-i`), selfsubjectrulesreviews
//     (`kubectl auth can-i --list`);
//   POST /api/v1/namespaces/NS/serviceaccounts/NAME/token (TokenRequest,
//     `kubectl create token`).
// The caller was already authorized for the create by the API server's RBAC check.
#pragma once

#include "common/http/server.h"
#include "hack/kube-sim/auth/authenticator.h"

namespace shardwise::kubesim {

class AuthApi {
 public:
  AuthApi(ServiceAccountTokens& tokens, RbacAuthorizer& authorizer)
      : tokens_(tokens), authorizer_(authorizer) {}

  // True when `req` is one of these endpoints; the response was sent.
  bool Serve(const http::Request& req, const UserInfo& user, http::ResponseWriter& w);
  // The review objects' responses, for tests and in-process callers. `body` is the
  // request object; the result is the object with its status filled in.
  ApiResult<json> TokenReview(const json& body);
  ApiResult<json> AccessReview(const std::string& kind, const std::string& path_ns, json body,
                               const UserInfo& caller);
  ApiResult<json> TokenRequest(const std::string& ns, const std::string& name, json body);

 private:
  ServiceAccountTokens& tokens_;
  RbacAuthorizer& authorizer_;
};

}  // namespace shardwise::kubesim
