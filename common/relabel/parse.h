// Reading relabel rules from configuration and validating them (see Validate in config.h).
// YAML uses Prometheus's relabel_config field names (source_labels, separator, regex,
// modulus, target_label, replacement, action) and, like Prometheus, rejects unknown fields.
// JSON uses the Prometheus Operator's RelabelConfig CRD field names (sourceLabels,
// separator, regex, modulus, targetLabel, replacement, action) and ignores unknown fields,
// as the API server has already pruned them. In both, an absent field takes Prometheus's
// default; the operator's conventions apply to JSON: an empty regex, targetLabel or action
// counts as absent, while a present separator or replacement is used even when empty.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/relabel/config.h"
#include "common/status.h"

namespace YAML {
class Node;
}

namespace shardwise::relabel {

// A YAML document holding a sequence of relabel_config maps (or null/empty: no rules).
Result<std::vector<RelabelConfig>> ParseYaml(std::string_view text);
// A YAML sequence node (or a null node: no rules).
Result<std::vector<RelabelConfig>> FromYaml(const YAML::Node& node);
Result<RelabelConfig> OneFromYaml(const YAML::Node& node);
// True for the YAML field names of one rule.
bool IsYamlField(std::string_view key);
// The first unknown field in a sequence of rules, as "<path>[i].<key>: unknown field"
// (config files report the key's full path); OK when there is none.
Status CheckYamlFields(const YAML::Node& rules, const std::string& path);

// A JSON array of RelabelConfig objects (or null: no rules).
Result<std::vector<RelabelConfig>> FromJson(const nlohmann::json& array);
Result<RelabelConfig> OneFromJson(const nlohmann::json& object);

}  // namespace shardwise::relabel
