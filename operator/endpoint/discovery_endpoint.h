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
#pragma once

#include "common/http/server.h"
#include "operator/endpoint/plan_store.h"

namespace shardwise::endpoint {

class DiscoveryEndpoint {
 public:
  DiscoveryEndpoint(PlanStore& plans, ReportStore& reports);
  // Registers the routes above. Call before server.Start().
  void Register(http::Server& server);

  void ServePlan(const http::Request& req, http::ResponseWriter& w);
  http::Response ServeHttpSd(const http::Request& req);
  http::Response AcceptReport(const http::Request& req);

 private:
  PlanStore& plans_;
  ReportStore& reports_;
};

}  // namespace shardwise::endpoint
