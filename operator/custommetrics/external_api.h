// ExternalMetricsApi: the external metrics API (external.metrics.k8s.io v1beta1) over the
// registered ExternalMetricsProviders, for HPAs with `type: External` metrics:
//
//   GET /apis/external.metrics.k8s.io                            APIGroup
//   GET /apis/external.metrics.k8s.io/v1beta1                    APIResourceList (one
//                                                                resource per metric name)
//   GET .../v1beta1/namespaces/NS/METRIC?labelSelector=SEL       ExternalMetricValueList
//
// Authentication and authorization as for the custom metrics API (the resource is the
// metric name, in the namespace). Values are Quantities with milli precision.
#pragma once

#include <vector>

#include "common/http/server.h"
#include "operator/custommetrics/auth.h"
#include "operator/custommetrics/provider.h"

namespace shardwise::custommetrics {

inline constexpr char kExternalGroup[] = "external.metrics.k8s.io";

class ExternalMetricsApi {
 public:
  ExternalMetricsApi(std::vector<const ExternalMetricsProvider*> providers,
                     const Authenticator* authn, Authorizer* authz);

  void Register(http::Server& server);
  http::Response Serve(const http::Request& request);

 private:
  std::vector<const ExternalMetricsProvider*> providers_;
  const Authenticator* authn_;
  Authorizer* authz_;
};

}  // namespace shardwise::custommetrics
