// TrimForDiscovery: drops from a cached Kubernetes object what target discovery never reads,
// so the operator's informer caches stay small on large clusters (applied as the informer's
// transform). Kept: all of metadata but managedFields and the kubectl last-applied
// annotation; for Pods the container names, images and ports, node, phase, IPs and
// conditions; for Services their spec; Endpoints without their annotations (the endpoints
// role reads none); EndpointSlices, Namespaces and monitors whole (they are small, or all of
// them is read). Contract, tested in cache_trim_test.cc: discovery over
// trimmed objects yields exactly the targets it yields over the originals.
//
// Deviation from Prometheus, on purpose: the last-applied-configuration annotation (a copy
// of the whole manifest) is not exposed as an __meta_*_annotation_* label.
#pragma once

#include <nlohmann/json.hpp>

namespace shardwise::opdiscovery {

void TrimForDiscovery(nlohmann::json& object);

}  // namespace shardwise::opdiscovery
