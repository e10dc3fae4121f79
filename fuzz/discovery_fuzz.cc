// libFuzzer target for the discovery endpoint's read routes (operator/endpoint):
// GET /api/v1/plans/<ns>/<pod> and GET /api/v1/http_sd/<ns>/<pool>/<shard>, behind the
// same ScraperAuth the operator runs (fuzz/endpoint_world.h).
//
// Input: byte 0 picks the route (bit 0) and whether authentication is on (bit 1); the rest
// is "<path after the route prefix>\n<query>\n<If-None-Match>\n<Authorization>".
//
// Invariants: exactly one response with a known status; with authentication on, a 200 for a
// plan only ever goes to the known token and for its own pod; nothing crashes or throws.
#include <cstdint>
#include <set>
#include <string>

#include "fuzz/endpoint_world.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_http.h"

namespace endpoint = shardwise::endpoint;
using shardwise::fuzz::Check;

namespace {

// Plans for shards 1 and 2 of pool main: shard 1 is the known token's own pod.
struct World : shardwise::fuzz::EndpointWorld {
  World() {
    shardwise::plan::ScrapePlan p;
    p.pool_namespace = "mon";
    p.pool = "main";
    p.shard = 1;
    shardwise::plan::Target t;
    t.id = 1;
    t.job = "j";
    t.address = "10.0.0.1:9100";
    t.labels = shardwise::Labels{{"job", "j"}, {"instance", "10.0.0.1:9100"}};
    p.targets.push_back(t);
    plans.Publish(endpoint::ShardKey{"mon", "main", 1, 0}, p);
    plans.Publish(endpoint::ShardKey{"mon", "main", 2, 0}, p);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();
  if (size == 0) return 0;
  const bool http_sd = data[0] & 1;
  const bool guarded = data[0] & 2;
  auto parts = shardwise::fuzz::SplitParts(
      std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), 4);
  shardwise::http::Request req;
  req.method = "GET";
  req.path = (http_sd ? "/api/v1/http_sd/" : "/api/v1/plans/") + parts[0];
  req.query = parts[1];
  if (!parts[2].empty()) req.headers.emplace_back("If-None-Match", parts[2]);
  if (!parts[3].empty()) req.headers.emplace_back("Authorization", parts[3]);

  endpoint::DiscoveryEndpoint& ep = guarded ? world->guarded : world->open;
  shardwise::fuzz::RecordingWriter w;
  shardwise::http::Response r;
  if (http_sd) {
    r = ep.ServeHttpSd(req);
  } else {
    ep.ServePlan(req, w);
    Check(w.responses == 1, "exactly one response");
    r = w.response;
  }
  static const std::set<int> kKnown = {200, 304, 400, 401, 403, 404, 405, 503};
  Check(kKnown.count(r.status) == 1, "a known status");
  if (guarded && r.status == 200) {
    Check(shardwise::fuzz::IsBearer(parts[3], shardwise::fuzz::kScraperToken),
          "only the known token is served");
    if (!http_sd) Check(parts[0] == "mon/shardwise-main-0-1", "a pod gets only its own plan");
  }
  return 0;
}
