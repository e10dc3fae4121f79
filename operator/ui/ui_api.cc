#include "operator/ui/ui_api.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "common/http/assets.h"
#include "common/plan/plan.h"
#include "operator/ui/assets.h"

namespace shardwise::ui {

using json = nlohmann::json;

namespace {

int64_t UnixMs(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

double Round(double v, double unit) { return std::round(v / unit) * unit; }

double AgeSeconds(Clock::time_point then, Clock::time_point now) {
  return Round(std::max(0.0, std::chrono::duration<double>(now - then).count()), 0.1);
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

json Summary(const pool::PoolSnapshot& p, Clock::time_point now) {
  return {{"namespace", p.ns},
          {"name", p.name},
          {"snapshotAgeSeconds", AgeSeconds(p.taken, now)},
          {"desiredShards", p.desired_shards},
          {"shards", p.shard_count},
          {"replicasPerShard", p.replicas_per_shard},
          {"readyShards", p.ready},
          {"lostShards", p.lost},
          {"drainingShards", p.draining},
          {"pendingShards", p.pending},
          {"targets", static_cast<int64_t>(p.targets.size())},
          {"handoffs", static_cast<int64_t>(p.handoffs.size())},
          {"monitors", static_cast<int64_t>(p.monitors.size())},
          {"invalidMonitors", std::count_if(p.monitors.begin(), p.monitors.end(),
                                            [](const auto& m) { return !m.valid; })},
          {"series", Round(p.series, 1)},
          {"samplesPerSecond", Round(p.samples_per_second, 0.1)},
          {"autoscaling",
           {{"mode", p.autoscaling_mode},
            {"minShards", p.min_shards},
            {"maxShards", p.max_shards},
            {"targetSeriesPerShard", p.target_series_per_shard},
            {"targetSamplesPerSecondPerShard", p.target_samples_per_second_per_shard}}},
          {"conditions", p.conditions}};
}

json TargetJson(const pool::TargetSnapshot& t) {
  json j = {{"id", plan::TargetIdHex(t.id)},
            {"job", t.job},
            {"address", t.address},
            {"labels", t.labels},
            {"shard", t.owner},
            {"weight", Round(t.weight, 0.1)}};
  if (t.series >= 0) j["series"] = t.series;
  if (t.last_success_unix_ms > 0) j["lastSuccessUnixMs"] = t.last_success_unix_ms;
  if (!t.last_error.empty()) j["lastError"] = t.last_error;
  return j;
}

// "/api/v1/ui/pools/<ns>/<name>[/targets]" → parts after "pools/".
std::vector<std::string> PathParts(std::string_view rest) {
  std::vector<std::string> parts;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    parts.emplace_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return parts;
}

http::Response JsonResponse(int status, const json& body) {
  // Labels may carry any bytes: replace invalid UTF-8 rather than fail the whole page.
  return http::Response::Json(status, body.dump(-1, ' ', false, json::error_handler_t::replace))
      .With("Cache-Control", "no-store");
}

}  // namespace

json PoolsJson(const pool::SnapshotStore& store, Clock::time_point now) {
  json pools = json::array();
  for (const auto& p : store.List()) pools.push_back(Summary(*p, now));
  return {{"nowUnixMs", UnixMs(now)}, {"pools", pools}};
}

json PoolJson(const pool::PoolSnapshot& p, Clock::time_point now) {
  json j = Summary(p, now);
  j["nowUnixMs"] = UnixMs(now);
  json shards = json::array();
  for (const auto& s : p.shards) {
    json sj = {{"index", s.index},
               {"phase", s.phase},
               {"pods", s.pods},
               {"replicasAlive", s.replicas_alive},
               {"targets", s.targets},
               {"handingOff", s.handing_off},
               {"assignedWeight", Round(s.assigned_weight, 0.1)}};
    // A Lost shard shows no load: nobody hears from it, so any figure would be stale.
    if (s.has_load) {
      sj["series"] = Round(s.series, 1);
      sj["samplesPerSecond"] = Round(s.samples_per_second, 0.1);
      sj["saturation"] = Round(s.saturation, 0.001);
      sj["remoteWriteLagSeconds"] = Round(s.remote_write_lag_seconds, 0.1);
    }
    if (s.last_report) {
      sj["lastReportUnixMs"] = UnixMs(*s.last_report);
      sj["heartbeatAgeSeconds"] = AgeSeconds(*s.last_report, now);
    }
    if (!s.ready_reason.empty()) sj["downReason"] = s.ready_reason + ": " + s.ready_message;
    if (!s.plan_error.empty()) sj["planError"] = s.plan_error;
    shards.push_back(std::move(sj));
  }
  j["shardList"] = shards;
  std::unordered_map<uint64_t, const pool::TargetSnapshot*> by_id;
  for (const auto& t : p.targets) by_id[t.id] = &t;
  json handoffs = json::array();
  for (const auto& h : p.handoffs) {
    json hj = {{"target", plan::TargetIdHex(h.target)},
               {"from", h.from},
               {"to", h.to},
               {"ageSeconds", AgeSeconds(h.since, now)}};
    if (auto it = by_id.find(h.target); it != by_id.end()) {
      hj["job"] = it->second->job;
      hj["address"] = it->second->address;
    }
    if (h.cutover) hj["cutoverUnixMs"] = UnixMs(*h.cutover);
    handoffs.push_back(std::move(hj));
  }
  j["handoffList"] = handoffs;
  json monitors = json::array();
  for (const auto& m : p.monitors) {
    json mj = {{"kind", m.kind},
               {"namespace", m.ns},
               {"name", m.name},
               {"valid", m.valid},
               {"targets", m.targets}};
    if (!m.message.empty()) mj["message"] = m.message;
    monitors.push_back(std::move(mj));
  }
  j["monitorList"] = monitors;
  j["autoscalingStatus"] = p.autoscaling;
  json history = json::array();
  for (const auto& h : p.history) {
    json hj = {{"t", UnixMs(h.at)},
               {"shards", h.shards},
               {"desired", h.desired_shards},
               {"ready", h.ready_shards},
               {"series", Round(h.series, 1)},
               {"samplesPerSecond", Round(h.samples_per_second, 0.1)}};
    if (!h.decision.empty()) hj["decision"] = h.decision;
    history.push_back(std::move(hj));
  }
  j["history"] = history;
  return j;
}

json TargetsJson(const pool::PoolSnapshot& p, int shard, const std::string& query, size_t limit) {
  const std::string q = Lower(query);
  json out = json::array();
  size_t matched = 0;
  for (const auto& t : p.targets) {
    if (shard >= 0 && t.owner != shard) continue;
    if (!q.empty() && Lower(t.job).find(q) == std::string::npos &&
        Lower(t.address).find(q) == std::string::npos &&
        Lower(t.labels).find(q) == std::string::npos) {
      continue;
    }
    ++matched;
    if (out.size() < limit) out.push_back(TargetJson(t));
  }
  return {{"namespace", p.ns},  {"name", p.name},      {"total", p.targets.size()},
          {"matched", matched}, {"shown", out.size()}, {"targets", out}};
}

void Register(http::Server& server, const pool::SnapshotStore& store) {
  server.HandleExact("/", http::AssetHandler(EmbeddedAssets(), "/"));
  server.Handle("/ui/", http::AssetHandler(EmbeddedAssets(), "/ui/"));
  server.HandleExact("/ui", http::AssetHandler(EmbeddedAssets(), "/ui/"));
  server.HandleExact("/api/v1/ui/pools",
                     http::Methods({"GET", "HEAD"}, http::Simple([&store](const http::Request&) {
                                     return JsonResponse(200, PoolsJson(store, Clock::now()));
                                   })));
  server.Handle(
      "/api/v1/ui/pools/",
      http::Methods({"GET", "HEAD"}, http::Simple([&store](const http::Request& req) {
                      auto parts = PathParts(std::string_view(req.path).substr(
                          std::string("/api/v1/ui/pools/").size()));
                      const bool targets = parts.size() == 3 && parts[2] == "targets";
                      if (!(parts.size() == 2 || targets) || parts[0].empty() || parts[1].empty()) {
                        return JsonResponse(
                            404, {{"error", "want /api/v1/ui/pools/<namespace>/<name>[/targets]"}});
                      }
                      auto p = store.Get(parts[0], parts[1]);
                      if (!p) {
                        return JsonResponse(404, {{"error", "no pool " + parts[0] + "/" + parts[1] +
                                                                " (not reconciled yet, or this "
                                                                "replica is not the leader)"}});
                      }
                      if (!targets) return JsonResponse(200, PoolJson(*p, Clock::now()));
                      int shard = -1;
                      size_t limit = 500;
                      try {
                        if (req.HasParam("shard") && !req.Param("shard").empty()) {
                          shard = std::stoi(req.Param("shard"));
                        }
                        if (req.HasParam("limit")) {
                          limit = static_cast<size_t>(std::stoul(req.Param("limit")));
                        }
                      } catch (const std::exception&) {
                        return JsonResponse(400, {{"error", "shard and limit must be numbers"}});
                      }
                      return JsonResponse(200, TargetsJson(*p, shard, req.Param("q"),
                                                           std::min<size_t>(limit, 10000)));
                    })));
}

}  // namespace shardwise::ui
