// meta.k8s.io/v1 Table rendering for `kubectl get`: the type's columns (built-in ones
// computed in code, CRD additionalPrinterColumns through JSONPath) and, per row, the
// object as PartialObjectMetadata (default), in full ("Object") or not at all ("None").
#pragma once

#include <string>
#include <vector>

#include "hack/kube-sim/resource_type.h"

namespace shardwise::kubesim {

struct TableOptions {
  bool headers = true;                      // false: omit columnDefinitions (later watch events)
  std::string include_object = "Metadata";  // Metadata | Object | None
};

json RenderTable(const ResourceType& type, const std::vector<json>& objects,
                 const json& list_metadata, const TableOptions& opts);

// True if an Accept header asks for a meta.k8s.io Table.
bool WantsTable(std::string_view accept);

}  // namespace shardwise::kubesim
