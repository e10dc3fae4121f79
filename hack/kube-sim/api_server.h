// ApiServer: the Kubernetes REST surface of the simulator on shardwise::http::Server.
// It parses paths (/api/v1/..., /apis/G/V/..., discovery, OpenAPI, /version), content
// negotiation (Table, aggregated discovery, patch types), authentication by bearer
// token, query options, and streams watches; Cluster does the semantics.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>

#include "common/http/server.h"
#include "hack/kube-sim/cluster.h"

namespace shardwise::kubesim {

// What an authorizer is asked (RBAC is not enforced yet; this is the hook).
struct AccessRequest {
  std::string user;
  std::string verb;  // get, list, watch, create, update, patch, delete, deletecollection
  std::string group, resource, subresource, ns, name;
};

struct ApiServerOptions {
  // Bearer token -> user name. Empty: every request is anonymous and allowed.
  std::map<std::string, std::string> tokens;
  // Returns false to deny (403). Unset: allow all.
  std::function<bool(const AccessRequest&)> authorize;
  // How often watches with allowWatchBookmarks=true get a BOOKMARK.
  std::chrono::milliseconds bookmark_interval{10000};
  // false: always answer /api and /apis with legacy discovery (as pre-1.26 servers do).
  bool aggregated_discovery = true;
  // Serves GET .../pods/NAME/log (the kubelet's container logs). Unset: 404.
  std::function<void(const http::Request&, http::ResponseWriter&, const std::string& ns,
                     const std::string& name)>
      pod_log;
};

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
  bool Authenticate(const http::Request& req, std::string* user);

  Cluster& cluster_;
  ApiServerOptions options_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace shardwise::kubesim
