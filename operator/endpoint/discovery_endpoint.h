// The operator's discovery endpoint (docs/discovery-protocol.md):
//
//   GET  /api/v1/plans/<namespace>/<pod>[?wait=30s]     the pod's ScrapePlan (JSON)
//        ETag: "<generation>". With If-None-Match equal to the current generation the
//        request waits up to `wait` (max 5m) for a change, then answers 304 if none came.
//        404 when the pod belongs to no known shard (yet).
//   GET  /api/v1/http_sd/<namespace>/<pool>/<shard>[?replica=0]
//        Prometheus http_sd target groups for that shard ([] when it has no plan).
//   POST /api/v1/reports/<namespace>/<pod>              LoadReport (JSON) → 204
//        Also the scraper's heartbeat. 400 with the reason for a malformed report.
//
// Every route first passes the authorizer, when one is set (the operator sets ScraperAuth:
// 401/403 before anything is looked up or parsed beyond the path).
#pragma once

#include <functional>
#include <optional>

#include "common/http/server.h"
#include "operator/endpoint/plan_store.h"
#include "operator/endpoint/scraper_auth.h"

namespace shardwise::endpoint {

class DiscoveryEndpoint {
 public:
  DiscoveryEndpoint(PlanStore& plans, ReportStore& reports);
  // Registers the routes above. Call before server.Start().
  void Register(http::Server& server);
  // nullopt lets the request through; a response refuses it. Set before serving.
  using Authorizer =
      std::function<std::optional<http::Response>(const http::Request&, const Access&)>;
  void SetAuthorizer(Authorizer authorizer) { authorizer_ = std::move(authorizer); }

  void ServePlan(const http::Request& req, http::ResponseWriter& w);
  http::Response ServeHttpSd(const http::Request& req);
  http::Response AcceptReport(const http::Request& req);

 private:
  std::optional<http::Response> Authorize(const http::Request& req, Access access) const {
    return authorizer_ ? authorizer_(req, access) : std::nullopt;
  }

  PlanStore& plans_;
  ReportStore& reports_;
  Authorizer authorizer_;
};

}  // namespace shardwise::endpoint
