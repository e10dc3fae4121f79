// RelabelConfig: one Prometheus relabeling rule (relabel_config / RelabelConfig CRD field),
// with Prometheus's defaults and its validation rules (model/relabel in Prometheus).
// A config is plain data; Relabeler (relabeler.h) compiles a list of them for use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace shardwise::relabel {

enum class Action {
  kReplace,
  kKeep,
  kDrop,
  kKeepEqual,
  kDropEqual,
  kHashMod,
  kLabelMap,
  kLabelDrop,
  kLabelKeep,
  kLowercase,
  kUppercase,
};

// "replace", "keep", ... as written in Prometheus configuration.
std::string_view ActionName(Action action);
// Case-insensitive, as both Prometheus and the Prometheus Operator lowercase the action.
Result<Action> ParseAction(std::string_view name);

inline constexpr std::string_view kDefaultSeparator = ";";
inline constexpr std::string_view kDefaultRegex = "(.*)";
inline constexpr std::string_view kDefaultReplacement = "$1";

struct RelabelConfig {
  std::vector<std::string> source_labels;
  std::string separator{kDefaultSeparator};
  // Unanchored as written by the user; matching is always against ^(?:regex)$.
  std::string regex{kDefaultRegex};
  uint64_t modulus = 0;
  std::string target_label;
  std::string replacement{kDefaultReplacement};
  Action action = Action::kReplace;

  bool operator==(const RelabelConfig&) const = default;
};

// Checks everything Prometheus checks when loading a config: that the regex compiles (RE2's
// message is returned), that source labels are valid label names, that each action has the
// fields it needs (hashmod: modulus and target_label; replace: target_label, which may use
// $-references; lowercase/uppercase/keepequal/dropequal: a valid target_label and no
// replacement; labelmap: a replacement that yields a label name) and no fields it forbids
// (keepequal/dropequal: only source_labels and target_label; labeldrop/labelkeep: only regex).
Status Validate(const RelabelConfig& config);

}  // namespace shardwise::relabel
