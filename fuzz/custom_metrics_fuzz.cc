// libFuzzer target for the custom metrics API (operator/custommetrics CustomMetricsApi):
// arbitrary paths under /apis/custom.metrics.k8s.io and query strings (labelSelector,
// metricLabelSelector), answered from a small fleet (one pool, two scraper pods with
// reports). Authentication and authorization are faked: byte 0 picks the caller
// (0 anonymous, 1 the HPA, which is allowed, 2 someone who is not).
//
// Input: byte 0 (mod 3) the caller; the rest is "<path after /apis/>\n<query string>".
//
// Invariants: every answer is a JSON object (a MetricValueList, discovery document or
// metav1.Status); anonymous callers get 401 within the API's paths and disallowed ones never
// a 200; nothing crashes.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_http.h"
#include "operator/custommetrics/api.h"
#include "operator/custommetrics/fake_auth.h"
#include "operator/custommetrics/fleet_provider.h"

namespace cm = shardwise::custommetrics;
using nlohmann::json;
using shardwise::fuzz::Check;

namespace {

json Obj(const std::string& ns, const std::string& name, json labels = json::object()) {
  return {{"metadata", {{"namespace", ns}, {"name", name}, {"labels", labels}}}};
}

struct World {
  shardwise::kube::Store pools, pods;
  shardwise::endpoint::ReportStore reports;
  cm::FleetMetricsProvider fleet{&pools, &pods, &reports, std::chrono::hours(24 * 365 * 100)};
  cm::FakeAuthn authn;
  cm::FakeAuthz authz;
  cm::CustomMetricsApi api{{&fleet}, &authn, &authz};
  World() {
    reports.SetAdmission([](const shardwise::endpoint::ShardKey&) { return true; });
    pools.Upsert(std::make_shared<json>(Obj("mon", "main")));
    for (int s = 0; s < 2; ++s) {
      std::string pod = "shardwise-main-0-" + std::to_string(s);
      pods.Upsert(std::make_shared<json>(Obj("mon", pod, {{"shardwise.io/pool", "main"}})));
      shardwise::plan::LoadReport r;
      r.pod = pod;
      r.shard = s;
      r.active_series = 1000 + s;
      r.samples_per_second = 33.3;
      reports.Put({"mon", "main", s, 0}, r);
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();
  if (size == 0) return 0;
  const int caller = data[0] % 3;
  auto parts = shardwise::fuzz::SplitParts(
      std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), 2);
  shardwise::http::Request req;
  req.method = "GET";
  req.path = "/apis/" + parts[0];
  req.query = parts[1];
  if (caller == 1) req.headers.emplace_back("X-Test-User", "hpa");
  if (caller == 2) req.headers.emplace_back("X-Test-User", "mallory");
  const shardwise::http::Response r = world->api.Serve(req);
  auto body = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  Check(body.is_object(), "every answer is a JSON object");
  const bool in_api = req.path.starts_with("/apis/custom.metrics.k8s.io");
  if (caller == 0 && in_api) Check(r.status == 401, "anonymous callers get 401");
  if (caller == 2) Check(r.status != 200, "a disallowed caller never gets a 200");
  return 0;
}
