// Which pods back a Service, as both the EndpointSlice and the Endpoints controller
// decide it: pods in the Service's namespace that its spec.selector selects, that have
// status.podIP and are not Succeeded/Failed; each with the Service's ports resolved
// against the pod (a named targetPort becomes the number of the pod's container port
// of that name and protocol; a port a pod cannot resolve is left out for that pod).
#pragma once

#include <string>
#include <vector>

#include "hack/kube-sim/cluster.h"

namespace shardwise::kubesim {

struct PodEndpoint {
  json pod;
  // [{"name","port","protocol"[,"appProtocol"]}], in the Service's port order.
  json ports;
  bool ready = false;        // Ready=True
  bool terminating = false;  // deletionTimestamp set
};

// False for a Service without a selector: its endpoints are managed by hand.
bool ServiceHasSelector(const json& service);
bool ServiceHeadless(const json& service);

// Sorted by pod name. `include_terminating`: keep pods with a deletionTimestamp.
std::vector<PodEndpoint> SelectEndpoints(const json& service, const std::vector<json>& pods,
                                         bool include_terminating);

// The resolved ports of `service` for `pod`.
json ResolvePorts(const json& service, const json& pod);

}  // namespace shardwise::kubesim
