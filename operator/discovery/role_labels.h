// Which __meta_kubernetes_* labels each Kubernetes SD role produces, and a check for
// monitor relabelings that read labels their role never has. Such a relabeling is valid
// but silently matches nothing (a `keep` on __meta_kubernetes_endpoint_ready under the
// endpointslice role drops every target), so the pool reports it as a warning condition.
//
// Roles and their labels (as Prometheus's discovery/kubernetes produces them; node labels
// never, as attach_metadata is off): endpoints — namespace, endpoints_name,
// endpoints_label(present)_*, endpoint_*, service_*, pod_*; endpointslice — namespace,
// endpointslice_*, service_*, pod_*; pod (PodMonitors) — namespace, pod_*.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "operator/discovery/monitor.h"

namespace shardwise::opdiscovery {

// True when `name` (a __meta_kubernetes_* label) can appear under the monitor's role.
bool RoleHasMetaLabel(Monitor::Kind kind, ServiceDiscoveryRole role, std::string_view name);

// One message per meta label the monitor's relabelings read that its role never produces:
// "endpoints[0].relabelings[2]: __meta_kubernetes_endpoint_ready is not produced by the
// EndpointSlice role". Reads source_labels, and the literal prefix of labelmap/labeldrop/
// labelkeep regexes.
std::vector<std::string> MetaLabelsOutsideRole(const Monitor& monitor, ServiceDiscoveryRole role);

}  // namespace shardwise::opdiscovery
