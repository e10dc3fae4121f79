// Null-safe reads of untrusted JSON (Kubernetes objects from the API, plans, reports): a
// missing key, or a value on the way that is not an object, reads as JSON null, never as an
// exception or an inserted key. Callers test the result's type.
//
//   const json& conditions = JsonField(pod, {"status", "conditions"});
//   if (conditions.is_array()) ...
#pragma once

#include <initializer_list>
#include <string_view>

#include <nlohmann/json.hpp>

namespace shardwise {

const nlohmann::json& JsonField(const nlohmann::json& object, std::string_view key);
const nlohmann::json& JsonField(const nlohmann::json& object,
                                std::initializer_list<std::string_view> path);

}  // namespace shardwise
