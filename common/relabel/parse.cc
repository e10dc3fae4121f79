#include "common/relabel/parse.h"

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>

namespace shardwise::relabel {
namespace {

Status Invalid(std::string msg) { return Status::InvalidArgument("relabel config: " + msg); }

template <typename T>
Result<T> YamlScalar(const YAML::Node& node, const std::string& field) {
  try {
    if (!node.IsScalar()) return Invalid(field + " must be a scalar");
    return node.as<T>();
  } catch (const YAML::Exception& e) {
    return Invalid(field + ": " + e.msg);
  }
}

}  // namespace

bool IsYamlField(std::string_view key) {
  for (std::string_view known : {"source_labels", "separator", "regex", "modulus", "target_label",
                                 "replacement", "action"}) {
    if (key == known) return true;
  }
  return false;
}

Status CheckYamlFields(const YAML::Node& rules, const std::string& path) {
  if (!rules.IsSequence()) return Status::OK();
  for (size_t i = 0; i < rules.size(); ++i) {
    if (!rules[i].IsMap()) continue;
    for (const auto& kv : rules[i]) {
      const std::string key = kv.first.Scalar();
      if (!IsYamlField(key)) {
        return Status::InvalidArgument(path + "[" + std::to_string(i) + "]." + key +
                                       ": unknown field");
      }
    }
  }
  return Status::OK();
}

Result<RelabelConfig> OneFromYaml(const YAML::Node& node) {
  if (!node.IsMap()) return Invalid("each rule must be a map");
  RelabelConfig c;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    // Before the null check: an unknown key without a value is still a typo.
    if (!IsYamlField(key)) return Invalid("unknown field \"" + key + "\"");
    if (v.IsNull()) continue;
    if (key == "source_labels") {
      if (!v.IsSequence()) return Invalid("source_labels must be a list");
      for (const auto& item : v) {
        auto s = YamlScalar<std::string>(item, key);
        if (!s.ok()) return s.status();
        c.source_labels.push_back(*s);
      }
      continue;
    }
    if (key == "modulus") {
      auto m = YamlScalar<uint64_t>(v, key);
      if (!m.ok()) return m.status();
      c.modulus = *m;
      continue;
    }
    auto s = YamlScalar<std::string>(v, key);
    if (!s.ok()) return s.status();
    if (key == "separator") {
      c.separator = *s;
    } else if (key == "regex") {
      c.regex = *s;
    } else if (key == "target_label") {
      c.target_label = *s;
    } else if (key == "replacement") {
      c.replacement = *s;
    } else if (key == "action") {
      auto a = ParseAction(*s);
      if (!a.ok()) return a.status();
      c.action = *a;
    }
  }
  SHARDWISE_RETURN_IF_ERROR(Validate(c));
  return c;
}

Result<std::vector<RelabelConfig>> FromYaml(const YAML::Node& node) {
  std::vector<RelabelConfig> out;
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsSequence()) return Invalid("relabel configs must be a list");
  for (size_t i = 0; i < node.size(); ++i) {
    auto c = OneFromYaml(node[i]);
    if (!c.ok()) return c.status().WithContext("rule " + std::to_string(i));
    out.push_back(std::move(c).value());
  }
  return out;
}

Result<std::vector<RelabelConfig>> ParseYaml(std::string_view text) {
  YAML::Node node;
  try {
    node = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Invalid(std::string("YAML: ") + e.what());
  }
  return FromYaml(node);
}

Result<RelabelConfig> OneFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Invalid("each rule must be an object");
  RelabelConfig c;
  auto string_field = [&](const char* name, std::string* out) -> Status {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) return Status::OK();
    if (!it->is_string()) return Invalid(std::string(name) + " must be a string");
    *out = it->get<std::string>();
    return Status::OK();
  };
  if (auto it = j.find("sourceLabels"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return Invalid("sourceLabels must be a list");
    for (const auto& item : *it) {
      if (!item.is_string()) return Invalid("sourceLabels must hold strings");
      c.source_labels.push_back(item.get<std::string>());
    }
  }
  SHARDWISE_RETURN_IF_ERROR(string_field("separator", &c.separator));
  std::string regex;
  SHARDWISE_RETURN_IF_ERROR(string_field("regex", &regex));
  if (!regex.empty()) c.regex = regex;
  if (auto it = j.find("modulus"); it != j.end() && !it->is_null()) {
    if (!it->is_number_unsigned()) return Invalid("modulus must be a non-negative integer");
    c.modulus = it->get<uint64_t>();
  }
  SHARDWISE_RETURN_IF_ERROR(string_field("targetLabel", &c.target_label));
  SHARDWISE_RETURN_IF_ERROR(string_field("replacement", &c.replacement));
  std::string action;
  SHARDWISE_RETURN_IF_ERROR(string_field("action", &action));
  if (!action.empty()) {
    auto a = ParseAction(action);
    if (!a.ok()) return a.status();
    c.action = *a;
  }
  SHARDWISE_RETURN_IF_ERROR(Validate(c));
  return c;
}

Result<std::vector<RelabelConfig>> FromJson(const nlohmann::json& array) {
  std::vector<RelabelConfig> out;
  if (array.is_null()) return out;
  if (!array.is_array()) return Invalid("relabel configs must be a list");
  for (size_t i = 0; i < array.size(); ++i) {
    auto c = OneFromJson(array[i]);
    if (!c.ok()) return c.status().WithContext("rule " + std::to_string(i));
    out.push_back(std::move(c).value());
  }
  return out;
}

}  // namespace shardwise::relabel
