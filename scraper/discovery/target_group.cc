#include "scraper/discovery/target_group.h"

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

namespace shardwise::sd {
namespace {

Status CheckLabelName(std::string_view name, std::string_view path) {
  if (!IsValidLabelName(name)) {
    return Status::InvalidArgument(std::string(path) + ": invalid label name \"" +
                                   std::string(name) + "\"");
  }
  return Status::OK();
}

Result<TargetGroup> GroupFromJson(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) return Status::InvalidArgument(path + ": expected an object");
  TargetGroup group;
  if (auto it = j.find("targets"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return Status::InvalidArgument(path + ".targets: expected a list");
    for (const auto& t : *it) {
      if (!t.is_string()) {
        return Status::InvalidArgument(path + ".targets: expected strings");
      }
      group.targets.push_back(Labels{{std::string(kAddressLabel), t.get<std::string>()}});
    }
  }
  if (auto it = j.find("labels"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Status::InvalidArgument(path + ".labels: expected a map");
    std::vector<Label> labels;
    for (const auto& [name, value] : it->items()) {
      SHARDWISE_RETURN_IF_ERROR(CheckLabelName(name, path + ".labels"));
      if (!value.is_string()) {
        return Status::InvalidArgument(path + ".labels." + name + ": expected a string");
      }
      labels.push_back({name, value.get<std::string>()});
    }
    group.labels = Labels::FromUnsorted(std::move(labels));
  }
  return group;
}

}  // namespace

Result<std::vector<TargetGroup>> ParseTargetGroupsJson(std::string_view text,
                                                       std::string_view source_prefix) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::InvalidArgument("target groups: malformed JSON");
  if (doc.is_null()) return std::vector<TargetGroup>{};
  if (!doc.is_array()) return Status::InvalidArgument("target groups: expected a JSON list");
  std::vector<TargetGroup> groups;
  for (size_t i = 0; i < doc.size(); ++i) {
    Result<TargetGroup> group = GroupFromJson(doc[i], "[" + std::to_string(i) + "]");
    if (!group.ok()) return group.status();
    group->source = std::string(source_prefix) + ":" + std::to_string(i);
    groups.push_back(std::move(group).value());
  }
  return groups;
}

Result<TargetGroup> TargetGroupFromYaml(const YAML::Node& node, std::string_view path_view) {
  const std::string path(path_view);
  if (!node.IsMap()) return Status::InvalidArgument(path + ": expected a map");
  TargetGroup group;
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& value = kv.second;
    if (key == "targets") {
      if (value.IsNull()) continue;
      if (!value.IsSequence()) return Status::InvalidArgument(path + ".targets: expected a list");
      for (const auto& t : value) {
        if (!t.IsScalar()) return Status::InvalidArgument(path + ".targets: expected strings");
        group.targets.push_back(Labels{{std::string(kAddressLabel), t.as<std::string>()}});
      }
    } else if (key == "labels") {
      if (value.IsNull()) continue;
      if (!value.IsMap()) return Status::InvalidArgument(path + ".labels: expected a map");
      std::vector<Label> labels;
      for (const auto& l : value) {
        std::string name = l.first.as<std::string>();
        SHARDWISE_RETURN_IF_ERROR(CheckLabelName(name, path + ".labels"));
        if (!l.second.IsScalar()) {
          return Status::InvalidArgument(path + ".labels." + name + ": expected a string");
        }
        labels.push_back({std::move(name), l.second.as<std::string>()});
      }
      group.labels = Labels::FromUnsorted(std::move(labels));
    } else {
      return Status::InvalidArgument(path + "." + key + ": unknown field");
    }
  }
  return group;
}

Result<std::vector<TargetGroup>> ParseTargetGroupsYaml(std::string_view text,
                                                       std::string_view source_prefix) {
  YAML::Node doc;
  try {
    doc = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("target groups: malformed YAML: ") + e.what());
  }
  if (doc.IsNull()) return std::vector<TargetGroup>{};
  if (!doc.IsSequence()) return Status::InvalidArgument("target groups: expected a YAML list");
  std::vector<TargetGroup> groups;
  try {
    for (size_t i = 0; i < doc.size(); ++i) {
      Result<TargetGroup> group = TargetGroupFromYaml(doc[i], "[" + std::to_string(i) + "]");
      if (!group.ok()) return group.status();
      group->source = std::string(source_prefix) + ":" + std::to_string(i);
      groups.push_back(std::move(group).value());
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("target groups: ") + e.what());
  }
  return groups;
}

}  // namespace shardwise::sd
