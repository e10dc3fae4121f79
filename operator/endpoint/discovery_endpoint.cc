#include "operator/endpoint/discovery_endpoint.h"

#include <charconv>

#include "common/duration.h"
#include "common/log/log.h"
#include "common/metrics/registry.h"
#include "operator/endpoint/report_validation.h"

namespace shardwise::endpoint {
namespace {

constexpr std::chrono::minutes kMaxWait{5};

metrics::CounterFamily& Requests() {
  static auto& f = metrics::Registry::Default().AddCounterFamily(
      "shardwise_discovery_requests_total",
      "Requests to the discovery endpoint by route and HTTP status code.", {"route", "code"});
  return f;
}

metrics::Gauge& LongPolls() {
  static auto& g = metrics::Registry::Default().AddGauge(
      "shardwise_discovery_long_polls", "Plan requests currently waiting for a change.");
  return g;
}

// Splits "/api/v1/plans/ns/pod" after `prefix` into its remaining segments.
std::vector<std::string> Segments(std::string_view path, std::string_view prefix) {
  std::vector<std::string> out;
  if (path.substr(0, prefix.size()) != prefix) return out;
  path.remove_prefix(prefix.size());
  while (!path.empty()) {
    size_t slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

http::Response Count(std::string_view route, http::Response r) {
  Requests().With({std::string(route), std::to_string(r.status)}).Inc();
  return r;
}

uint64_t ParseEtag(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  uint64_t g = 0;
  std::from_chars(v.data(), v.data() + v.size(), g);
  return g;
}

}  // namespace

DiscoveryEndpoint::DiscoveryEndpoint(PlanStore& plans, ReportStore& reports)
    : plans_(plans), reports_(reports) {}

void DiscoveryEndpoint::Register(http::Server& server) {
  server.Handle("/api/v1/plans/",
                [this](const http::Request& r, http::ResponseWriter& w) { ServePlan(r, w); });
  server.Handle("/api/v1/http_sd/",
                http::Simple([this](const http::Request& r) { return ServeHttpSd(r); }));
  server.Handle("/api/v1/reports/",
                http::Simple([this](const http::Request& r) { return AcceptReport(r); }));
}

void DiscoveryEndpoint::ServePlan(const http::Request& req, http::ResponseWriter& w) {
  auto seg = Segments(req.path, "/api/v1/plans/");
  if (req.method != "GET") {
    w.Send(Count("plans", http::Response::Text(405, "use GET\n")));
    return;
  }
  if (seg.size() != 2) {
    w.Send(Count("plans", http::Response::Text(400, "want /api/v1/plans/<namespace>/<pod>\n")));
    return;
  }
  auto key = ParsePodName(seg[0], seg[1]);
  if (!key) {
    w.Send(Count("plans", http::Response::Text(404, "pod \"" + seg[1] +
                                                        "\" is not named like a Shardwise scraper "
                                                        "(shardwise-<pool>-<replica>-<shard>)\n")));
    return;
  }
  if (auto denied = Authorize(req, {"plans", seg[0], seg[1], key->pool})) {
    w.Send(Count("plans", std::move(*denied)));
    return;
  }
  std::chrono::milliseconds wait{0};
  if (std::string ws = req.Param("wait"); !ws.empty()) {
    auto d = ParseDuration(ws);
    if (!d.ok()) {
      w.Send(Count("plans", http::Response::Text(400, d.status().message() + "\n")));
      return;
    }
    wait = std::min<std::chrono::milliseconds>(*d, kMaxWait);
  }
  uint64_t known = ParseEtag(req.Header("If-None-Match"));
  LongPolls().Inc();
  auto p = plans_.WaitForChange(*key, known, known ? wait : std::chrono::milliseconds(0),
                                [&w] { return w.ClientGone(); });
  LongPolls().Dec();
  if (!p) {
    w.Send(Count("plans", http::Response::Text(404, "no plan yet for " + key->ToString() + "\n")));
    return;
  }
  std::string etag = "\"" + std::to_string(p->generation) + "\"";
  if (known != 0 && p->generation == known) {
    http::Response r;
    r.status = 304;
    r.With("ETag", etag);
    w.Send(Count("plans", std::move(r)));
    return;
  }
  http::Response r = http::Response::Json(200, plan::ToJson(*p).dump());
  r.With("ETag", etag);
  w.Send(Count("plans", std::move(r)));
}

http::Response DiscoveryEndpoint::ServeHttpSd(const http::Request& req) {
  auto seg = Segments(req.path, "/api/v1/http_sd/");
  if (seg.size() != 3) {
    return Count("http_sd",
                 http::Response::Text(400, "want /api/v1/http_sd/<namespace>/<pool>/<shard>\n"));
  }
  int shard = -1, replica = 0;
  std::from_chars(seg[2].data(), seg[2].data() + seg[2].size(), shard);
  if (std::string rs = req.Param("replica"); !rs.empty()) {
    std::from_chars(rs.data(), rs.data() + rs.size(), replica);
  }
  if (shard < 0) return Count("http_sd", http::Response::Text(400, "bad shard index\n"));
  if (auto denied = Authorize(req, {"http_sd", seg[0], "", seg[1]})) {
    return Count("http_sd", std::move(*denied));
  }
  auto p = plans_.Get(ShardKey{seg[0], seg[1], shard, replica});
  nlohmann::json body = p ? plan::ToHttpSd(*p) : nlohmann::json::array();
  return Count("http_sd", http::Response::Json(200, body.dump()));
}

http::Response DiscoveryEndpoint::AcceptReport(const http::Request& req) {
  auto seg = Segments(req.path, "/api/v1/reports/");
  if (req.method != "POST") return Count("reports", http::Response::Text(405, "use POST\n"));
  if (seg.size() != 2) {
    return Count("reports", http::Response::Text(400, "want /api/v1/reports/<namespace>/<pod>\n"));
  }
  auto key = ParsePodName(seg[0], seg[1]);
  if (!key) {
    return Count("reports", http::Response::Text(404, "pod " + seg[1].substr(0, 253) +
                                                          " is no scraper of a known shard\n"));
  }
  if (auto denied = Authorize(req, {"reports", seg[0], seg[1], key->pool})) {
    return Count("reports", std::move(*denied));
  }
  if (!reports_.Admits(*key)) {
    return Count("reports", http::Response::Text(404, "pod " + seg[1].substr(0, 253) +
                                                          " is no scraper of a known shard\n"));
  }
  if (req.body.size() > kMaxReportBytes) {
    return Count("reports",
                 http::Response::Text(
                     413, "report larger than " + std::to_string(kMaxReportBytes) + " bytes\n"));
  }
  auto j = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Count("reports", http::Response::Text(400, "report is not valid JSON\n"));
  }
  auto report = plan::ReportFromJson(j);
  if (!report.ok()) {
    log::Warn("rejected load report", {{"pod", seg[1].substr(0, 253)}, {"err", report.status()}});
    return Count("reports", http::Response::Text(400, report.status().message() + "\n"));
  }
  if (Status st = ValidateReport(*key, seg[1], *report); !st.ok()) {
    log::Warn("rejected load report", {{"pod", seg[1]}, {"err", st}});
    return Count("reports", http::Response::Text(400, st.message() + "\n"));
  }
  if (!reports_.Put(*key, std::move(report).value())) {
    return Count("reports",
                 http::Response::Text(404, "pod " + seg[1] + " is no scraper of a known shard\n"));
  }
  http::Response r;
  r.status = 204;
  return Count("reports", std::move(r));
}

}  // namespace shardwise::endpoint
