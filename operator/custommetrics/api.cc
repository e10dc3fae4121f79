#include "operator/custommetrics/api.h"

#include "common/log/log.h"
#include "common/quantity.h"
#include "operator/discovery/label_selector_text.h"
#include "operator/kube/time_format.h"

namespace shardwise::custommetrics {
namespace {

using nlohmann::json;

constexpr std::string_view kPrefix = "/apis/custom.metrics.k8s.io";
const char* kVersions[] = {"v1beta2", "v1beta1"};

http::Response JsonResponse(int code, const json& body) {
  // Names and selectors come from the request: invalid UTF-8 is replaced, never thrown.
  return http::Response::Json(code,
                              body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

int HttpCode(const Status& s) {
  switch (s.code()) {
    case Status::Code::kNotFound:
      return 404;
    case Status::Code::kInvalidArgument:
      return 400;
    case Status::Code::kUnavailable:  // a shard did not answer (in time)
    case Status::Code::kDeadlineExceeded:
      return 503;
    default:
      return 500;
  }
}

const char* ReasonOf(int code) {
  switch (code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 503:
      return "ServiceUnavailable";
    default:
      return "InternalError";
  }
}

json ValueJson(const std::string& version, const MetricValue& v) {
  json obj = {
      {"kind", v.object.kind}, {"name", v.object.name}, {"apiVersion", v.object.api_version}};
  if (!v.object.ns.empty()) obj["namespace"] = v.object.ns;
  json item = {{"describedObject", std::move(obj)},
               {"timestamp", kube::FormatTime(v.timestamp)},
               {"windowSeconds", v.window_seconds},
               {"value", shardwise::FormatQuantity(v.milli_value)}};
  if (version == "v1beta2") {
    item["metric"] = {{"name", v.metric}, {"selector", nullptr}};
  } else {
    item["metricName"] = v.metric;
  }
  return item;
}

}  // namespace

http::Response StatusResponse(int code, const std::string& reason, const std::string& message) {
  return JsonResponse(code, {{"kind", "Status"},
                             {"apiVersion", "v1"},
                             {"metadata", json::object()},
                             {"status", "Failure"},
                             {"message", message},
                             {"reason", reason},
                             {"code", code}});
}

CustomMetricsApi::CustomMetricsApi(std::vector<const MetricsProvider*> providers,
                                   const Authenticator* authn, Authorizer* authz)
    : providers_(std::move(providers)), authn_(authn), authz_(authz) {}

void CustomMetricsApi::Register(http::Server& server) {
  server.Handle(std::string(kPrefix),
                http::Simple([this](const http::Request& r) { return Serve(r); }));
}

http::Response CustomMetricsApi::Discovery(const std::string& version) const {
  json resources = json::array();
  std::vector<MetricInfo> seen;
  for (const MetricsProvider* p : providers_) {
    for (const MetricInfo& m : p->ListMetrics()) {
      if (std::find(seen.begin(), seen.end(), m) != seen.end()) continue;
      seen.push_back(m);
      resources.push_back({{"name", m.resource + "/" + m.metric},
                           {"singularName", ""},
                           {"namespaced", m.namespaced},
                           {"kind", "MetricValueList"},
                           {"verbs", json::array({"get"})}});
    }
  }
  return JsonResponse(200, {{"kind", "APIResourceList"},
                            {"apiVersion", "v1"},
                            {"groupVersion", std::string(kGroup) + "/" + version},
                            {"resources", std::move(resources)}});
}

http::Response CustomMetricsApi::Values(const std::string& version, const MetricQuery& q) const {
  for (const MetricsProvider* p : providers_) {
    bool serves = false;
    for (const MetricInfo& m : p->ListMetrics()) {
      if (m.resource == q.resource && m.metric == q.metric) serves = true;
    }
    if (!serves) continue;
    auto values = p->GetMetric(q);
    if (!values.ok()) {
      int code = HttpCode(values.status());
      return StatusResponse(code, ReasonOf(code), values.status().message());
    }
    if (q.name != "*" && values->size() != 1) {
      return StatusResponse(500, "InternalError",
                            "expected exactly one value for " + q.resource + " " + q.name);
    }
    json items = json::array();
    for (const auto& v : *values) items.push_back(ValueJson(version, v));
    return JsonResponse(200, {{"kind", "MetricValueList"},
                              {"apiVersion", std::string(kGroup) + "/" + version},
                              {"metadata", json::object()},
                              {"items", std::move(items)}});
  }
  return StatusResponse(404, "NotFound",
                        "the server could not find the metric " + q.metric + " for " + q.resource);
}

http::Response CustomMetricsApi::Serve(const http::Request& req) {
  std::string_view path = req.path;
  if (path.substr(0, kPrefix.size()) != kPrefix)
    return StatusResponse(404, "NotFound", "not found");
  std::vector<std::string> seg = SplitPath(path.substr(kPrefix.size()));

  auto caller = ReadOnlyCaller(*authn_, req, "custom metrics");
  if (auto* rejected = std::get_if<http::Response>(&caller)) return std::move(*rejected);
  const UserInfo& user = std::get<UserInfo>(caller);

  Attributes attrs;
  attrs.group = kGroup;
  MetricQuery q;
  bool discovery = seg.size() <= 1;
  if (!seg.empty()) {
    attrs.version = seg[0];
    if (std::find(std::begin(kVersions), std::end(kVersions), seg[0]) == std::end(kVersions)) {
      return StatusResponse(404, "NotFound", "unknown version " + seg[0]);
    }
  }
  if (discovery) {
    attrs.resource_request = false;
    attrs.path = req.path;
  } else {
    std::vector<std::string> rest(seg.begin() + 1, seg.end());
    if (rest.size() == 4 && rest[0] == "namespaces" && rest[2] == "metrics") {
      q = {"namespaces", "", rest[1], rest[3], {}, {}};
      attrs.ns = rest[1];
      attrs.resource = "metrics";
      attrs.name = rest[3];
    } else if (rest.size() == 5 && rest[0] == "namespaces") {
      q = {rest[2], rest[1], rest[3], rest[4], {}, {}};
      attrs.ns = rest[1];
      attrs.resource = rest[2];
      attrs.name = rest[3];
      attrs.subresource = rest[4];
    } else if (rest.size() == 3) {
      q = {rest[0], "", rest[1], rest[2], {}, {}};
      attrs.resource = rest[0];
      attrs.name = rest[1];
      attrs.subresource = rest[2];
    } else {
      return StatusResponse(404, "NotFound", "not found: " + req.path);
    }
  }

  if (auto denied = AccessDenied(*authz_, user, attrs, "custom metrics")) return std::move(*denied);

  if (seg.empty()) {
    json versions = json::array();
    for (const char* v : kVersions) {
      versions.push_back({{"groupVersion", std::string(kGroup) + "/" + v}, {"version", v}});
    }
    return JsonResponse(200, {{"kind", "APIGroup"},
                              {"apiVersion", "v1"},
                              {"name", kGroup},
                              {"versions", versions},
                              {"preferredVersion", versions[0]}});
  }
  if (discovery) return Discovery(seg[0]);

  if (q.name == "*") {
    auto sel = opdiscovery::ParseLabelSelectorText(req.Param("labelSelector"));
    if (!sel.ok()) return StatusResponse(400, "BadRequest", sel.status().message());
    q.selector = std::move(sel).value();
  }
  auto msel = opdiscovery::ParseLabelSelectorText(req.Param("metricLabelSelector"));
  if (!msel.ok()) return StatusResponse(400, "BadRequest", msel.status().message());
  q.metric_selector = std::move(msel).value();
  return Values(seg[0], q);
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) out.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

std::variant<UserInfo, http::Response> ReadOnlyCaller(const Authenticator& authn,
                                                      const http::Request& req,
                                                      std::string_view api) {
  auto user = authn.Authenticate(req);
  if (!user.ok()) {
    log::Debug(std::string(api) + " request not authenticated", {{"err", user.status()}});
    return StatusResponse(401, "Unauthorized", "Unauthorized");
  }
  if (req.method != "GET") {
    return StatusResponse(405, "MethodNotAllowed",
                          "the " + std::string(api) + " API is read-only (GET)");
  }
  return std::move(*user);
}

std::optional<http::Response> AccessDenied(Authorizer& authz, const UserInfo& user,
                                           const Attributes& attrs, std::string_view api) {
  std::string why;
  auto allowed = authz.Authorize(user, attrs, &why);
  if (!allowed.ok()) {
    log::Warn(std::string(api) + " authorization failed", {{"err", allowed.status()}});
    return StatusResponse(500, "InternalError", "authorization failed");
  }
  if (*allowed) return std::nullopt;
  std::string what = !attrs.resource_request ? "path " + attrs.path
                                             : "resource \"" + attrs.resource +
                                                   "\" in API group \"" + attrs.group + "\"";
  return StatusResponse(403, "Forbidden",
                        "user \"" + user.name + "\" cannot get " + what +
                            (attrs.ns.empty() ? "" : " in the namespace \"" + attrs.ns + "\"") +
                            (why.empty() ? "" : ": " + why));
}

}  // namespace shardwise::custommetrics
