#include "common/relabel/config.h"

#include <re2/re2.h>

#include <array>
#include <utility>

#include "common/labels.h"

namespace shardwise::relabel {
namespace {

constexpr std::array<std::pair<Action, std::string_view>, 11> kActionNames = {{
    {Action::kReplace, "replace"},
    {Action::kKeep, "keep"},
    {Action::kDrop, "drop"},
    {Action::kKeepEqual, "keepequal"},
    {Action::kDropEqual, "dropequal"},
    {Action::kHashMod, "hashmod"},
    {Action::kLabelMap, "labelmap"},
    {Action::kLabelDrop, "labeldrop"},
    {Action::kLabelKeep, "labelkeep"},
    {Action::kLowercase, "lowercase"},
    {Action::kUppercase, "uppercase"},
}};

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

// A label name that may contain $name / ${name} references (Prometheus's relabelTarget).
bool IsValidTemplatedLabelName(std::string_view s) {
  static const RE2 kTemplated(R"(^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$)");
  return RE2::FullMatch(re2::StringPiece(s.data(), s.size()), kTemplated);
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

Status Invalid(std::string msg) { return Status::InvalidArgument("relabel config: " + msg); }

}  // namespace

std::string_view ActionName(Action action) {
  for (const auto& [a, name] : kActionNames) {
    if (a == action) return name;
  }
  return "unknown";
}

Result<Action> ParseAction(std::string_view name) {
  for (const auto& [a, n] : kActionNames) {
    if (EqualsIgnoreCase(name, n)) return a;
  }
  return Invalid("unknown relabel action " + Quote(name));
}

Status Validate(const RelabelConfig& c) {
  const std::string action(ActionName(c.action));
  for (const auto& name : c.source_labels) {
    if (!IsValidLabelName(name)) return Invalid(Quote(name) + " is not a valid label name");
  }
  RE2::Options options;
  options.set_log_errors(false);
  RE2 re("^(?:" + c.regex + ")$", options);
  if (!re.ok()) return Invalid("invalid regex " + Quote(c.regex) + ": " + re.error());

  const bool needs_target = c.action == Action::kReplace || c.action == Action::kHashMod ||
                            c.action == Action::kLowercase || c.action == Action::kUppercase ||
                            c.action == Action::kKeepEqual || c.action == Action::kDropEqual;
  if (c.action == Action::kHashMod && c.modulus == 0) {
    return Invalid("hashmod action requires a non-zero modulus");
  }
  if (needs_target && c.target_label.empty()) {
    return Invalid(action + " action requires a target_label");
  }
  if (c.action == Action::kReplace) {
    bool templated = c.target_label.find('$') != std::string::npos;
    bool ok =
        templated ? IsValidTemplatedLabelName(c.target_label) : IsValidLabelName(c.target_label);
    if (!ok) return Invalid(Quote(c.target_label) + " is an invalid target_label for replace");
  }
  const bool plain_target = c.action == Action::kLowercase || c.action == Action::kUppercase ||
                            c.action == Action::kKeepEqual || c.action == Action::kDropEqual ||
                            c.action == Action::kHashMod;
  if (plain_target && !IsValidLabelName(c.target_label)) {
    return Invalid(Quote(c.target_label) + " is an invalid target_label for " + action);
  }
  const bool no_replacement = c.action == Action::kLowercase || c.action == Action::kUppercase ||
                              c.action == Action::kKeepEqual || c.action == Action::kDropEqual;
  if (no_replacement && c.replacement != kDefaultReplacement) {
    return Invalid("replacement cannot be set for " + action + " action");
  }
  if (c.action == Action::kLabelMap && !IsValidTemplatedLabelName(c.replacement)) {
    return Invalid(Quote(c.replacement) + " is an invalid replacement for labelmap");
  }
  if (c.action == Action::kKeepEqual || c.action == Action::kDropEqual) {
    if (c.regex != kDefaultRegex || c.modulus != 0 || c.separator != kDefaultSeparator) {
      return Invalid(action + " action takes only source_labels and target_label");
    }
  }
  if (c.action == Action::kLabelDrop || c.action == Action::kLabelKeep) {
    if (!c.source_labels.empty() || !c.target_label.empty() || c.modulus != 0 ||
        c.separator != kDefaultSeparator || c.replacement != kDefaultReplacement) {
      return Invalid(action + " action takes only a regex");
    }
  }
  return Status::OK();
}

}  // namespace shardwise::relabel
