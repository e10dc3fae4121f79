// The JSONPath subset that CRD additionalPrinterColumns, scale subresource paths and
// `kubectl wait --for=jsonpath` rely on: ".a.b", "[0]", "['key']",
// "[?(@.type==\"Ready\")].status", optionally wrapped in "{...}".
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace shardwise::kubesim {

// The first value the path selects in `root`, or nullopt if none or unparsable.
std::optional<nlohmann::json> EvalJsonPath(const nlohmann::json& root, std::string_view path);

// Writes `value` at a simple dotted path (".spec.replicas"), creating objects on the way.
// Returns false for paths with indices or filters.
bool SetJsonPath(nlohmann::json& root, std::string_view path, const nlohmann::json& value);

}  // namespace shardwise::kubesim
