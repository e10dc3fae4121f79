// Authentication and authorization of custom metrics requests, as Kubernetes extension API
// servers do it behind the aggregation layer.
//
// RequestHeaderAuthenticator: the aggregator (kube-apiserver) connects with its front-proxy
// client certificate and names the real user in headers. A request is authenticated when it
// carries a client certificate that chains to requestheader-client-ca-file and whose CN is in
// requestheader-allowed-names (empty list: any CN); the user is then the first non-empty
// username header, the groups every group-header value, the extras the prefixed headers.
// The configuration comes from ConfigMap kube-system/extension-apiserver-authentication and
// may be replaced at any time (Update).
//
// SubjectAccessReviewAuthorizer: asks the API server (authorization.k8s.io/v1) whether the
// user may do what the request does, and caches each answer for `ttl` (allowed and denied
// alike, bounded in size) so an HPA polling every 15 s costs one review per ttl.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http/message.h"
#include "common/status.h"
#include "operator/kube/client.h"

namespace shardwise::custommetrics {

struct UserInfo {
  std::string name;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
};

struct RequestHeaderConfig {
  std::string client_ca_pem;
  std::vector<std::string> allowed_names;
  std::vector<std::string> username_headers{"X-Remote-User"};
  std::vector<std::string> group_headers{"X-Remote-Group"};
  std::vector<std::string> extra_header_prefixes{"X-Remote-Extra-"};

  // From the extension-apiserver-authentication ConfigMap's data.
  static Result<RequestHeaderConfig> FromConfigMap(const nlohmann::json& config_map);
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Unauthenticated requests: a non-OK status (answered 401).
  virtual Result<UserInfo> Authenticate(const http::Request& request) const = 0;
};

class RequestHeaderAuthenticator : public Authenticator {
 public:
  explicit RequestHeaderAuthenticator(std::function<std::chrono::system_clock::time_point()> now =
                                          [] { return std::chrono::system_clock::now(); });
  void Update(RequestHeaderConfig config);
  bool configured() const;
  Result<UserInfo> Authenticate(const http::Request& request) const override;

 private:
  std::function<std::chrono::system_clock::time_point()> now_;
  mutable std::mutex mu_;
  std::optional<RequestHeaderConfig> config_;
};

// What a request does, in SubjectAccessReview terms.
struct Attributes {
  std::string verb = "get";
  bool resource_request = true;
  std::string group, version, resource, subresource, name, ns;
  std::string path;  // non-resource requests (discovery)
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // OK(true/false) with the reason in `*reason`; an error when the review itself failed.
  virtual Result<bool> Authorize(const UserInfo& user, const Attributes& attrs,
                                 std::string* reason) = 0;
};

class SubjectAccessReviewAuthorizer : public Authorizer {
 public:
  SubjectAccessReviewAuthorizer(
      kube::Client& client, std::chrono::milliseconds ttl,
      std::function<std::chrono::steady_clock::time_point()> now = [] {
        return std::chrono::steady_clock::now();
      });
  Result<bool> Authorize(const UserInfo& user, const Attributes& attrs,
                         std::string* reason) override;
  uint64_t reviews() const;

  // The SubjectAccessReview body (exposed for tests).
  static nlohmann::json Review(const UserInfo& user, const Attributes& attrs);

 private:
  struct Cached {
    bool allowed;
    std::string reason;
    std::chrono::steady_clock::time_point expires;
  };
  kube::Client& client_;
  std::chrono::milliseconds ttl_;
  std::function<std::chrono::steady_clock::time_point()> now_;
  mutable std::mutex mu_;
  std::map<std::string, Cached> cache_;
  uint64_t reviews_ = 0;
};

}  // namespace shardwise::custommetrics
