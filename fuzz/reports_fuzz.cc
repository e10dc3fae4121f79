// libFuzzer target for the discovery endpoint's write route (operator/endpoint):
// POST /api/v1/reports/<ns>/<pod> with an arbitrary body, behind the same ScraperAuth the
// operator runs (fuzz/endpoint_world.h).
//
// Input: byte 0 says whether authentication is on (bit 0); the rest is
// "<path after /api/v1/reports/>\n<Authorization>\n<body>".
//
// Invariants: a known status; a report is stored exactly when the answer is 204; with
// authentication on, only the known token's own pod ever gets one stored; nothing crashes.
#include <cstdint>
#include <set>
#include <string>

#include "fuzz/endpoint_world.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_http.h"

namespace endpoint = shardwise::endpoint;
using shardwise::fuzz::Check;

namespace {

// Reports are admitted for pool main only (the operator admits the pods of known shards).
struct World : shardwise::fuzz::EndpointWorld {
  World() {
    reports.SetAdmission([](const endpoint::ShardKey& k) { return k.pool == "main"; });
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
    Check(shardwise::fuzz::IsBearer(parts[1], shardwise::fuzz::kScraperToken),
          "only the known token reports");
    Check(parts[0] == "mon/shardwise-main-0-1", "a pod reports only its own load");
  }
  return 0;
}
