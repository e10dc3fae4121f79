// The three PATCH body formats the apiserver accepts besides server-side apply:
// RFC 7386 JSON merge patch, RFC 6902 JSON patch, and Kubernetes strategic merge
// patch (merge-by-key lists for built-in kinds, with the $patch, $setElementOrder,
// $retainKeys and $deleteFromPrimitiveList directives).
#pragma once

#include "hack/kube-sim/api_error.h"

namespace shardwise::kubesim {

json ApplyMergePatch(const json& target, const json& patch);
// 422 when an operation fails (missing path, failed test).
ApiResult<json> ApplyJsonPatch(const json& target, const json& patch);
ApiResult<json> ApplyStrategicMergePatch(const json& target, const json& patch);

// The merge key of a list field in a built-in kind ("name" for containers, ...), or ""
// if the list is atomic. `sample` is one element of the list (or of the patch list),
// used to tell container ports (containerPort) from service ports (port).
std::string MergeKeyFor(const std::string& field, const json& sample);

}  // namespace shardwise::kubesim
