// OpenAPI v3 component schemas for `kubectl explain`: the built-in kinds from the
// compact hand-written data file openapi/builtin_schemas.json (top-level fields and the
// common nested types), and custom resources from their CRD's structural schema, each
// marked with x-kubernetes-group-version-kind as kube-apiserver publishes them.
#pragma once

#include <string>
#include <vector>

#include "hack/kube-sim/cluster.h"

namespace shardwise::kubesim {

// components.schemas for the /openapi/v3 document of one group-version: the kinds
// served there plus every schema they reference.
json OpenApiSchemas(const std::vector<TypePtr>& types, const std::string& group,
                    const std::string& version);

}  // namespace shardwise::kubesim
