#include "operator/discovery/role_labels.h"

#include <initializer_list>

namespace shardwise::opdiscovery {
namespace {

constexpr std::string_view kMeta = "__meta_kubernetes_";

bool HasPrefix(std::string_view suffix, std::initializer_list<std::string_view> prefixes) {
  for (std::string_view p : prefixes) {
    if (suffix.starts_with(p)) return true;
  }
  return false;
}

// The literal start of a regex up to its first metacharacter.
std::string_view LiteralPrefix(std::string_view regex) {
  size_t end = regex.find_first_of(".[]()*+?{}|^$\\");
  return regex.substr(0, end);
}

const char* RoleLabel(Monitor::Kind kind, ServiceDiscoveryRole role) {
  if (kind == Monitor::Kind::kPodMonitor) return "pod";
  return RoleName(role);
}

}  // namespace

bool RoleHasMetaLabel(Monitor::Kind kind, ServiceDiscoveryRole role, std::string_view name) {
  if (!name.starts_with(kMeta)) return true;
  std::string_view s = name.substr(kMeta.size());
  if (s == "namespace") return true;
  if (kind == Monitor::Kind::kPodMonitor) return s.starts_with("pod_");
  if (role == ServiceDiscoveryRole::kEndpoints) {
    return s == "endpoints_name" || HasPrefix(s, {"endpoints_label_", "endpoints_labelpresent_",
                                                  "endpoint_", "service_", "pod_"});
  }
  return HasPrefix(s, {"endpointslice_", "service_", "pod_"});
}

std::vector<std::string> MetaLabelsOutsideRole(const Monitor& m, ServiceDiscoveryRole role) {
  std::vector<std::string> out;
  const char* endpoints_field =
      m.kind == Monitor::Kind::kServiceMonitor ? "endpoints" : "podMetricsEndpoints";
  for (size_t i = 0; i < m.endpoints.size(); ++i) {
    const auto& rules = m.endpoints[i].relabelings;
    for (size_t r = 0; r < rules.size(); ++r) {
      std::vector<std::string> read = rules[r].source_labels;
      const relabel::Action a = rules[r].action;
      if (a == relabel::Action::kLabelMap || a == relabel::Action::kLabelDrop ||
          a == relabel::Action::kLabelKeep) {
        std::string_view prefix = LiteralPrefix(rules[r].regex);
        // A prefix naming a whole role-specific family, e.g. __meta_kubernetes_endpoint_.
        if (prefix.starts_with(kMeta) && prefix.size() > kMeta.size()) {
          read.emplace_back(prefix);
        }
      }
      for (const std::string& name : read) {
        if (RoleHasMetaLabel(m.kind, role, name)) continue;
        out.push_back(std::string(endpoints_field) + "[" + std::to_string(i) + "].relabelings[" +
                      std::to_string(r) + "]: " + name + " is not produced by the " +
                      RoleLabel(m.kind, role) + " role");
      }
    }
  }
  return out;
}

}  // namespace shardwise::opdiscovery
