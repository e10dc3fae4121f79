// The target relabeling the Prometheus Operator generates for one monitor endpoint
// (pkg/prometheus/promcfg.go: generateServiceMonitorConfig / generatePodMonitorConfig),
// reproduced rule for rule, in order, followed by the endpoint's own relabelings:
//
// ServiceMonitor (endpoints or endpointslice) PodMonitor (pod role)
//  1 job -> __tmp_prometheus_job_name          1 job -> __tmp_prometheus_job_name
//  2 keep/drop per selector term on the        2 drop pod phase Failed|Succeeded (filterRunning)
//    Service's labels                          3 keep/drop per selector term on the Pod's labels
//  3 keep on port name (port) or on the        4 keep on container port name (port), number
//    container port name/number (targetPort)     (portNumber) or name/number (targetPort)
//  4 node, pod from the address target ref     5 namespace, container, pod
//  5 namespace, service, pod, container        6 podTargetLabels
//  6 drop pod phase Failed|Succeeded           7 job = "<ns>/<name>", then jobLabel
//  7 targetLabels, podTargetLabels             8 endpoint = port / targetPort / portNumber
//  8 job = Service name, then jobLabel         9 the endpoint's relabelings
//  9 endpoint = port / targetPort
// 10 the endpoint's relabelings
//
// The two ServiceMonitor roles differ only in the labels rules 3 and 4 read:
// __meta_kubernetes_endpoint_port_name and __meta_kubernetes_endpoint_address_target_* for
// endpoints, __meta_kubernetes_endpointslice_* for endpointslice, as the operator emits them.
//
// The operator's own sharding rules (hashmod on __address__, keep $(SHARD)) are left out:
// Shardwise assigns targets to shards itself. Not-ready endpoints are not dropped: the
// operator does not drop them either (Prometheus scrapes them and reports them down).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/relabel/config.h"
#include "operator/discovery/monitor.h"

namespace shardwise::opdiscovery {

// Replaces every character outside [a-zA-Z0-9_] with '_', as Prometheus and the operator do
// when turning Kubernetes label keys into label names.
std::string SanitizeLabelName(std::string_view name);

std::vector<relabel::RelabelConfig> GeneratedRelabelings(const Monitor& monitor,
                                                         size_t endpoint_index,
                                                         ServiceDiscoveryRole role);

// Just the selector rules (one keep/drop per selector term). They read only the Service's
// (ServiceMonitor) or the Pod's (PodMonitor) labels, so discovery can apply them once per
// Service or Pod, before expanding it into targets, with the same outcome.
std::vector<relabel::RelabelConfig> SelectorRelabelings(const Monitor& monitor);

}  // namespace shardwise::opdiscovery
