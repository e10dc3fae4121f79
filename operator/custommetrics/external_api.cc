#include "operator/custommetrics/external_api.h"

#include <algorithm>

#include "common/log/log.h"
#include "common/quantity.h"
#include "operator/custommetrics/api.h"
#include "operator/discovery/label_selector_text.h"
#include "operator/kube/time_format.h"

namespace shardwise::custommetrics {
namespace {

using nlohmann::json;

constexpr std::string_view kPrefix = "/apis/external.metrics.k8s.io";
constexpr char kVersion[] = "v1beta1";

http::Response JsonResponse(int code, const json& body) {
  return http::Response::Json(code,
                              body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace

ExternalMetricsApi::ExternalMetricsApi(std::vector<const ExternalMetricsProvider*> providers,
                                       const Authenticator* authn, Authorizer* authz)
    : providers_(std::move(providers)), authn_(authn), authz_(authz) {}

void ExternalMetricsApi::Register(http::Server& server) {
  server.Handle(std::string(kPrefix),
                http::Simple([this](const http::Request& r) { return Serve(r); }));
}

http::Response ExternalMetricsApi::Serve(const http::Request& req) {
  std::string_view path = req.path;
  if (path.substr(0, kPrefix.size()) != kPrefix)
    return StatusResponse(404, "NotFound", "not found");
  std::vector<std::string> seg = SplitPath(path.substr(kPrefix.size()));
  auto caller = ReadOnlyCaller(*authn_, req, "external metrics");
  if (auto* rejected = std::get_if<http::Response>(&caller)) return std::move(*rejected);
  const UserInfo& user = std::get<UserInfo>(caller);
  if (!seg.empty() && seg[0] != kVersion) {
    return StatusResponse(404, "NotFound", "unknown version " + seg[0]);
  }
  Attributes attrs;
  attrs.group = kExternalGroup;
  attrs.version = kVersion;
  const bool discovery = seg.size() <= 1;
  if (discovery) {
    attrs.resource_request = false;
    attrs.path = req.path;
  } else if (seg.size() == 4 && seg[1] == "namespaces") {
    attrs.ns = seg[2];
    attrs.resource = seg[3];
  } else {
    return StatusResponse(404, "NotFound", "not found: " + req.path);
  }
  if (auto denied = AccessDenied(*authz_, user, attrs, "external metrics")) {
    return std::move(*denied);
  }
  if (seg.empty()) {
    json version = {{"groupVersion", std::string(kExternalGroup) + "/" + kVersion},
                    {"version", kVersion}};
    return JsonResponse(200, {{"kind", "APIGroup"},
                              {"apiVersion", "v1"},
                              {"name", kExternalGroup},
                              {"versions", json::array({version})},
                              {"preferredVersion", version}});
  }
  if (discovery) {
    std::vector<std::string> names;
    for (const auto* p : providers_) {
      for (auto& m : p->ListExternalMetrics()) names.push_back(std::move(m));
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    json resources = json::array();
    for (const auto& n : names) {
      resources.push_back({{"name", n},
                           {"singularName", ""},
                           {"namespaced", true},
                           {"kind", "ExternalMetricValueList"},
                           {"verbs", json::array({"get"})}});
    }
    return JsonResponse(200, {{"kind", "APIResourceList"},
                              {"apiVersion", "v1"},
                              {"groupVersion", std::string(kExternalGroup) + "/" + kVersion},
                              {"resources", std::move(resources)}});
  }
  auto sel = opdiscovery::ParseLabelSelectorText(req.Param("labelSelector"));
  if (!sel.ok()) return StatusResponse(400, "BadRequest", sel.status().message());
  for (const auto* p : providers_) {
    auto names = p->ListExternalMetrics();
    if (std::find(names.begin(), names.end(), attrs.resource) == names.end()) continue;
    auto values = p->GetExternalMetric(attrs.ns, attrs.resource, *sel);
    if (!values.ok()) {
      const Status& s = values.status();
      int code =
          s.code() == Status::Code::kNotFound          ? 404
          : s.code() == Status::Code::kInvalidArgument ? 400
          : s.code() == Status::Code::kUnavailable || s.code() == Status::Code::kDeadlineExceeded
              ? 503
              : 500;
      const char* reason = code == 404   ? "NotFound"
                           : code == 400 ? "BadRequest"
                           : code == 503 ? "ServiceUnavailable"
                                         : "InternalError";
      return StatusResponse(code, reason, s.message());
    }
    json items = json::array();
    for (const auto& v : *values) {
      items.push_back({{"metricName", v.metric},
                       {"metricLabels", v.labels},
                       {"timestamp", kube::FormatTime(v.timestamp)},
                       {"windowSeconds", v.window_seconds},
                       {"value", shardwise::FormatQuantity(v.milli_value)}});
    }
    return JsonResponse(200, {{"kind", "ExternalMetricValueList"},
                              {"apiVersion", std::string(kExternalGroup) + "/" + kVersion},
                              {"metadata", json::object()},
                              {"items", std::move(items)}});
  }
  return StatusResponse(404, "NotFound",
                        "the server could not find the external metric " + attrs.resource);
}

}  // namespace shardwise::custommetrics
