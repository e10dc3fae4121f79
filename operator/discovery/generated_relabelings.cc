#include "operator/discovery/generated_relabelings.h"

namespace shardwise::opdiscovery {
namespace {

using relabel::Action;
using relabel::RelabelConfig;

RelabelConfig Copy(std::string source, std::string target) {
  RelabelConfig c;
  c.source_labels = {std::move(source)};
  c.target_label = std::move(target);
  return c;
}

RelabelConfig Filter(Action action, std::vector<std::string> sources, std::string regex) {
  RelabelConfig c;
  c.action = action;
  c.source_labels = std::move(sources);
  c.regex = std::move(regex);
  return c;
}

// Copies a non-empty source value: regex (.+), replacement ${1}.
RelabelConfig CopyIfSet(std::string source, std::string target) {
  RelabelConfig c = Copy(std::move(source), std::move(target));
  c.regex = "(.+)";
  c.replacement = "${1}";
  return c;
}

RelabelConfig SetLiteral(std::string target, std::string value) {
  RelabelConfig c;
  c.target_label = std::move(target);
  c.replacement = std::move(value);
  return c;
}

std::string Join(const std::vector<std::string>& values, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += sep;
    out += values[i];
  }
  return out;
}

// One keep/drop rule per selector term, over <prefix>label_<k> and <prefix>labelpresent_<k>.
void AppendSelector(const LabelSelector& selector, const std::string& prefix,
                    std::vector<RelabelConfig>* out) {
  for (const auto& [key, value] : selector.match_labels) {  // std::map: sorted keys
    std::string k = SanitizeLabelName(key);
    out->push_back(Filter(Action::kKeep, {prefix + "label_" + k, prefix + "labelpresent_" + k},
                          "(" + value + ");true"));
  }
  for (const auto& r : selector.match_expressions) {
    std::string k = SanitizeLabelName(r.key);
    std::vector<std::string> value_and_present = {prefix + "label_" + k,
                                                  prefix + "labelpresent_" + k};
    std::vector<std::string> present = {prefix + "labelpresent_" + k};
    if (r.op == "In") {
      out->push_back(
          Filter(Action::kKeep, value_and_present, "(" + Join(r.values, "|") + ");true"));
    } else if (r.op == "NotIn") {
      out->push_back(
          Filter(Action::kDrop, value_and_present, "(" + Join(r.values, "|") + ");true"));
    } else if (r.op == "Exists") {
      out->push_back(Filter(Action::kKeep, present, "true"));
    } else if (r.op == "DoesNotExist") {
      out->push_back(Filter(Action::kDrop, present, "true"));
    }
  }
}

RelabelConfig RunningFilter() {
  return Filter(Action::kDrop, {"__meta_kubernetes_pod_phase"}, "(Failed|Succeeded)");
}

RelabelConfig FromTargetRef(const std::string& kind, const std::string& target,
                            ServiceDiscoveryRole role) {
  RelabelConfig c;
  if (role == ServiceDiscoveryRole::kEndpoints) {
    c.source_labels = {"__meta_kubernetes_endpoint_address_target_kind",
                       "__meta_kubernetes_endpoint_address_target_name"};
  } else {
    c.source_labels = {"__meta_kubernetes_endpointslice_address_target_kind",
                       "__meta_kubernetes_endpointslice_address_target_name"};
  }
  c.separator = ";";
  c.regex = kind + ";(.*)";
  c.replacement = "${1}";
  c.target_label = target;
  return c;
}

void AppendTargetPortFilter(const MonitorEndpoint& ep, std::vector<RelabelConfig>* out) {
  if (ep.target_port.empty()) return;
  out->push_back(Filter(Action::kKeep,
                        {ep.target_port_is_number ? "__meta_kubernetes_pod_container_port_number"
                                                  : "__meta_kubernetes_pod_container_port_name"},
                        ep.target_port));
}

void AppendEndpointLabel(const MonitorEndpoint& ep, std::vector<RelabelConfig>* out) {
  std::string endpoint = ep.EndpointLabel();
  if (!endpoint.empty()) out->push_back(SetLiteral("endpoint", endpoint));
}

}  // namespace

std::string SanitizeLabelName(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) c = '_';
  }
  return out;
}

std::vector<RelabelConfig> SelectorRelabelings(const Monitor& m) {
  std::vector<RelabelConfig> out;
  AppendSelector(m.selector,
                 m.kind == Monitor::Kind::kServiceMonitor ? "__meta_kubernetes_service_"
                                                          : "__meta_kubernetes_pod_",
                 &out);
  return out;
}

std::vector<RelabelConfig> GeneratedRelabelings(const Monitor& m, size_t endpoint_index,
                                                ServiceDiscoveryRole role) {
  const MonitorEndpoint& ep = m.endpoints.at(endpoint_index);
  std::vector<RelabelConfig> out;
  out.push_back(Copy("job", "__tmp_prometheus_job_name"));

  if (m.kind == Monitor::Kind::kServiceMonitor) {
    AppendSelector(m.selector, "__meta_kubernetes_service_", &out);
    if (!ep.port.empty()) {
      out.push_back(Filter(
          Action::kKeep,
          {role == ServiceDiscoveryRole::kEndpoints ? "__meta_kubernetes_endpoint_port_name"
                                                    : "__meta_kubernetes_endpointslice_port_name"},
          ep.port));
    } else {
      AppendTargetPortFilter(ep, &out);
    }
    out.push_back(FromTargetRef("Node", "node", role));
    out.push_back(FromTargetRef("Pod", "pod", role));
    out.push_back(Copy("__meta_kubernetes_namespace", "namespace"));
    out.push_back(Copy("__meta_kubernetes_service_name", "service"));
    out.push_back(Copy("__meta_kubernetes_pod_name", "pod"));
    out.push_back(Copy("__meta_kubernetes_pod_container_name", "container"));
    if (ep.filter_running) out.push_back(RunningFilter());
    for (const auto& l : m.target_labels) {
      out.push_back(CopyIfSet("__meta_kubernetes_service_label_" + SanitizeLabelName(l),
                              SanitizeLabelName(l)));
    }
    for (const auto& l : m.pod_target_labels) {
      out.push_back(
          CopyIfSet("__meta_kubernetes_pod_label_" + SanitizeLabelName(l), SanitizeLabelName(l)));
    }
    RelabelConfig job = Copy("__meta_kubernetes_service_name", "job");
    job.replacement = "${1}";
    out.push_back(job);
    if (!m.job_label.empty()) {
      out.push_back(
          CopyIfSet("__meta_kubernetes_service_label_" + SanitizeLabelName(m.job_label), "job"));
    }
  } else {
    if (ep.filter_running) out.push_back(RunningFilter());
    AppendSelector(m.selector, "__meta_kubernetes_pod_", &out);
    if (!ep.port.empty()) {
      out.push_back(Filter(Action::kKeep, {"__meta_kubernetes_pod_container_port_name"}, ep.port));
    } else if (ep.port_number != 0) {
      out.push_back(Filter(Action::kKeep, {"__meta_kubernetes_pod_container_port_number"},
                           std::to_string(ep.port_number)));
    } else {
      AppendTargetPortFilter(ep, &out);
    }
    out.push_back(Copy("__meta_kubernetes_namespace", "namespace"));
    out.push_back(Copy("__meta_kubernetes_pod_container_name", "container"));
    out.push_back(Copy("__meta_kubernetes_pod_name", "pod"));
    for (const auto& l : m.pod_target_labels) {
      out.push_back(
          CopyIfSet("__meta_kubernetes_pod_label_" + SanitizeLabelName(l), SanitizeLabelName(l)));
    }
    out.push_back(SetLiteral("job", m.ns + "/" + m.name));
    if (!m.job_label.empty()) {
      out.push_back(
          CopyIfSet("__meta_kubernetes_pod_label_" + SanitizeLabelName(m.job_label), "job"));
    }
  }
  AppendEndpointLabel(ep, &out);
  out.insert(out.end(), ep.relabelings.begin(), ep.relabelings.end());
  return out;
}

}  // namespace shardwise::opdiscovery
