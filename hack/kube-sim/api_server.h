// ApiServer: the Kubernetes REST surface of the simulator on shardwise::http::Server.
// It parses paths (/api/v1/..., /apis/G/V/..., discovery, OpenAPI, /version), content
// negotiation (Table, aggregated discovery, patch types), query options, and streams
// watches; Cluster does the semantics. Every request is first authenticated and
// authorized through the hooks (auth/), then offered to the extra handlers (auth
// reviews, TokenRequest, APIService proxying) before the generic resource handling.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/http/server.h"
#include "hack/kube-sim/auth/rbac.h"
#include "hack/kube-sim/cluster.h"

namespace shardwise::kubesim {

// A request body as JSON (JSON, or YAML converted); 415 for protobuf/CBOR, 400 when it
// does not decode.
ApiResult<json> ParseBody(const http::Request& req);
// The patch type a PATCH's Content-Type names; nullopt for anything else.
std::optional<PatchType> PatchTypeOf(std::string_view content_type);

// Serves `req` itself and returns true, or returns false to pass it on.
using ExtraHandler =
    std::function<bool(const http::Request&, const UserInfo&, http::ResponseWriter&)>;

struct ApiServerOptions {
  // Who sent the request (401/403 errors end it). Unset: everyone is system:masters.
  std::function<ApiResult<UserInfo>(const http::Request&)> authenticate;
  // Unset: allow all.
  std::function<Decision(const Attributes&)> authorize;
  // Tried in order after authorization.
  std::vector<ExtraHandler> handlers;
  // Extra entries for discovery (aggregated APIs): each is {group, version, resources
  // (an APIResourceList's "resources")}; called per discovery request.
  std::function<std::vector<json>()> extra_discovery;
  // How often watches with allowWatchBookmarks=true get a BOOKMARK.
  std::chrono::milliseconds bookmark_interval{10000};
  // false: always answer /api and /apis with legacy discovery (as pre-1.26 servers do).
  bool aggregated_discovery = true;
  // Serves GET .../pods/NAME/log (the kubelet's container logs). Unset: 404.
  std::function<void(const http::Request&, http::ResponseWriter&, const std::string& ns,
                     const std::string& name)>
      pod_log;
};

// JSON responses and metav1.Status errors, with the headers every API response has.
void SendApiObject(http::ResponseWriter& w, int code, const json& body);
void SendApiError(http::ResponseWriter& w, const ApiError& e);

class ApiServer {
 public:
  ApiServer(Cluster& cluster, ApiServerOptions options);
  // Serves every path of `server`.
  void Register(http::Server& server);
  void Handle(const http::Request& req, http::ResponseWriter& w);
  // Ends open watch streams (shutdown).
  void Shutdown();

 private:
  struct Route;
  void HandleResource(const http::Request& req, http::ResponseWriter& w, Route& route);
  void Watch(const http::Request& req, http::ResponseWriter& w, const ResourceType& t,
             const std::string& ns, const ListOptions& opts);

  Cluster& cluster_;
  ApiServerOptions options_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace shardwise::kubesim
