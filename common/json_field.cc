#include "common/json_field.h"

namespace shardwise {

namespace {
const nlohmann::json kNull;
}  // namespace

const nlohmann::json& JsonField(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

const nlohmann::json& JsonField(const nlohmann::json& object,
                                std::initializer_list<std::string_view> path) {
  const nlohmann::json* cur = &object;
  for (std::string_view key : path) {
    cur = &JsonField(*cur, key);
    if (cur->is_null()) break;
  }
  return *cur;
}

}  // namespace shardwise
