// libFuzzer target for the discovery endpoint's write route (operator/endpoint):
// POST /api/v1/reports/<ns>/<pod> with an arbitrary body, behind the same ScraperAuth the
// operator runs (TokenReview faked: one known token, bound to pod shardwise-main-0-1 of
// pool main in namespace mon).
//
// Input: byte 0 says whether authentication is on (bit 0); the rest is
// "<path after /api/v1/reports/>\n<Authorization>\n<body>".
//
// Invariants: a known status; a report is stored exactly when the answer is 204; with
// authentication on, only the known token's own pod ever gets one stored; nothing crashes.
#include <cstdint>
#include <set>
#include <string>

#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_http.h"
#include "operator/endpoint/discovery_endpoint.h"

namespace endpoint = shardwise::endpoint;
using shardwise::fuzz::Check;

namespace {

const std::string kToken =
    "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOlsic2hhcmR3aXNlIl0sImV4cCI6NDEwMjQ0NDgwMH0.sig";

struct World {
  endpoint::PlanStore plans;
  endpoint::ReportStore reports;
  endpoint::DiscoveryEndpoint open{plans, reports};
  endpoint::DiscoveryEndpoint guarded{plans, reports};
  endpoint::TokenReviewer reviewer{
      [](const std::string& token) -> shardwise::Result<endpoint::TokenIdentity> {
        endpoint::TokenIdentity id;
        if (token == kToken) {
          id.authenticated = true;
          id.username = "system:serviceaccount:mon:shardwise-main-scraper";
          id.pod_name = "shardwise-main-0-1";
          endpoint::ParseServiceAccountUsername(&id);
        }
        return id;
      },
      {}};
  endpoint::ScraperAuth auth{reviewer};
  World() {
    reports.SetAdmission([](const endpoint::ShardKey& k) { return k.pool == "main"; });
    guarded.SetAuthorizer([this](const shardwise::http::Request& r, const endpoint::Access& a) {
      return auth.Check(r, a);
    });
  }
};

size_t StoredReports(const endpoint::ReportStore& reports) { return reports.All().size(); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();
  if (size == 0) return 0;
  const bool guarded = data[0] & 1;
  auto parts = shardwise::fuzz::SplitParts(
      std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), 3);
  shardwise::http::Request req;
  req.method = "POST";
  req.path = "/api/v1/reports/" + parts[0];
  if (!parts[1].empty()) req.headers.emplace_back("Authorization", parts[1]);
  req.body = parts[2];

  for (const auto& key : world->reports.All()) world->reports.Remove(key.first);
  endpoint::DiscoveryEndpoint& ep = guarded ? world->guarded : world->open;
  const shardwise::http::Response r = ep.AcceptReport(req);
  static const std::set<int> kKnown = {204, 400, 401, 403, 404, 405, 503};
  Check(kKnown.count(r.status) == 1, "a known status");
  Check((r.status == 204) == (StoredReports(world->reports) == 1), "stored exactly on 204");
  if (guarded && r.status == 204) {
    Check(shardwise::fuzz::IsBearer(parts[1], kToken), "only the known token reports");
    Check(parts[0] == "mon/shardwise-main-0-1", "a pod reports only its own load");
  }
  return 0;
}
