// The target label sets Prometheus's Kubernetes service discovery produces, for the
// endpoints role (one Endpoints object, enriched with the Service of the same name and the
// Pods its addresses point to), the endpointslice role (one EndpointSlice, enriched the same
// way) and the pod role (one Pod). Each set holds __address__ and the
// __meta_kubernetes_* labels with the names and values Prometheus uses (as of Prometheus
// 2.5x/3.x; node metadata is not attached, as attach_metadata is off by default). Labels with
// empty values are left out, as Prometheus's label builder drops them. Target order follows
// Prometheus's loops; Go map order (pods seen through several endpoints) becomes first-seen.
#pragma once

#include <functional>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/labels.h"
#include "operator/discovery/cluster_view.h"

namespace shardwise::opdiscovery {

// Called with the labels every target of one object shares (endpointslice role: namespace,
// slice and Service metadata; pod role: namespace and pod labels); false skips the object.
using GroupFilter = std::function<bool(const Labels& group)>;

std::vector<Labels> EndpointSliceTargets(const nlohmann::json& slice, const ClusterView& view,
                                         const GroupFilter& filter = nullptr);

// Endpoints role: per subset, port and address (ready ones, then notReadyAddresses with
// __meta_kubernetes_endpoint_ready="false"), then uncovered container ports of the Pods seen.
std::vector<Labels> EndpointsTargets(const nlohmann::json& endpoints, const ClusterView& view,
                                     const GroupFilter& filter = nullptr);

// None when the pod has no IP yet (starting or evicted), as in Prometheus.
std::vector<Labels> PodTargets(const nlohmann::json& pod, const GroupFilter& filter = nullptr);

}  // namespace shardwise::opdiscovery
