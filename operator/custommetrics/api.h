// CustomMetricsApi: the custom.metrics.k8s.io API (v1beta2 and v1beta1) over the
// registered MetricsProviders, as kube-api.md §13 describes it:
//
//   GET /apis/custom.metrics.k8s.io                          APIGroup
//   GET /apis/custom.metrics.k8s.io/VERSION                  APIResourceList of the metrics
//   GET .../VERSION/namespaces/NS/RESOURCE/NAME/METRIC       Object metric (exactly one item)
//   GET .../VERSION/namespaces/NS/RESOURCE/*/METRIC?labelSelector=SEL[&metricLabelSelector=]
//                                                            every matching object's value
//   GET .../VERSION/namespaces/NS/metrics/METRIC             Namespace metric
//   GET .../VERSION/RESOURCE/NAME/METRIC                     cluster-scoped objects
//
// Every request is authenticated (401 otherwise) and authorized (403) before anything is
// read. Answers are MetricValueList; errors are metav1.Status. Values are Quantities with
// milli precision ("1500m").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http/server.h"
#include "operator/custommetrics/auth.h"
#include "operator/custommetrics/provider.h"

namespace shardwise::custommetrics {

inline constexpr char kGroup[] = "custom.metrics.k8s.io";

class CustomMetricsApi {
 public:
  CustomMetricsApi(std::vector<const MetricsProvider*> providers, const Authenticator* authn,
                   Authorizer* authz);

  // Registers /apis/custom.metrics.k8s.io (and below) on `server`.
  void Register(http::Server& server);
  http::Response Serve(const http::Request& request);

 private:
  http::Response Discovery(const std::string& version) const;
  http::Response Values(const std::string& version, const MetricQuery& q) const;

  std::vector<const MetricsProvider*> providers_;
  const Authenticator* authn_;
  Authorizer* authz_;
};

// metav1.Status for an error answer.
http::Response StatusResponse(int code, const std::string& reason, const std::string& message);

// Non-empty segments of a URL path ("/a//b/" -> {"a", "b"}).
std::vector<std::string> SplitPath(std::string_view path);

// The admission both metrics APIs (custom and external) make, as kube-apiserver answers:
// ReadOnlyCaller gives the caller, or 401 for an unauthenticated request and 405 for anything
// but GET (`api` names the API in the message). AccessDenied gives nothing when the caller may
// do what `attrs` describe, 403 naming what was refused when not, 500 when the review failed.
std::variant<UserInfo, http::Response> ReadOnlyCaller(const Authenticator& authn,
                                                      const http::Request& req,
                                                      std::string_view api);
std::optional<http::Response> AccessDenied(Authorizer& authz, const UserInfo& user,
                                           const Attributes& attrs, std::string_view api);

}  // namespace shardwise::custommetrics
