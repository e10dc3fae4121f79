// TargetGroup: what every target source produces, in Prometheus's shape: a list of targets
// (each a label set holding at least __address__) plus labels common to the group.
// A source always reports the complete current list of its groups; the scrape manager
// replaces that source's previous list with it.
//
// The JSON/YAML form is Prometheus's file_sd / http_sd format:
//   [{"targets": ["host:port", ...], "labels": {"name": "value", ...}}, ...]
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"
#include "common/status.h"

namespace YAML {
class Node;
}

namespace shardwise::sd {

inline constexpr std::string_view kAddressLabel = "__address__";

struct TargetGroup {
  std::vector<Labels> targets;  // each holds __address__
  Labels labels;                // shared by all targets; a target's own labels win
  std::string source;           // where it came from, for status pages ("file.json:0")

  bool operator==(const TargetGroup&) const = default;
};

// Parses a file_sd/http_sd document. Label names are validated; `source_prefix` names the
// groups "<prefix>:<index>".
Result<std::vector<TargetGroup>> ParseTargetGroupsJson(std::string_view text,
                                                       std::string_view source_prefix);
Result<std::vector<TargetGroup>> ParseTargetGroupsYaml(std::string_view text,
                                                       std::string_view source_prefix);
// One group from a YAML map (a static_configs entry). `path` prefixes error messages.
Result<TargetGroup> TargetGroupFromYaml(const YAML::Node& node, std::string_view path);

}  // namespace shardwise::sd
