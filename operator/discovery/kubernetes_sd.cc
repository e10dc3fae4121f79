#include "operator/discovery/kubernetes_sd.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/json_field.h"
#include "operator/discovery/generated_relabelings.h"

namespace shardwise::opdiscovery {
namespace {

using nlohmann::json;
using LabelMap = std::map<std::string, std::string>;

constexpr const char* kMeta = "__meta_kubernetes_";

std::string Str(const json& object, const char* name) {
  const json& v = JsonField(object, name);
  return v.is_string() ? v.get<std::string>() : "";
}

std::string Meta(const std::string& suffix) { return kMeta + suffix; }

std::string BoolText(bool b) { return b ? "true" : "false"; }

std::string JoinHostPort(const std::string& host, int64_t port) {
  std::string p = std::to_string(port);
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + p;
  return host + ":" + p;
}

// <role>_name, <role>_label_<k>, <role>_labelpresent_<k>, and the same for annotations.
void AddObjectMeta(const json& object, const std::string& role, LabelMap* ls) {
  const json& meta = JsonField(object, "metadata");
  (*ls)[Meta(role + "_name")] = Str(meta, "name");
  for (const char* what : {"label", "annotation"}) {
    const json& map = JsonField(meta, what == std::string("label") ? "labels" : "annotations");
    if (!map.is_object()) continue;
    for (const auto& [k, v] : map.items()) {
      std::string ln = SanitizeLabelName(k);
      (*ls)[Meta(role + "_" + what + "_" + ln)] = v.is_string() ? v.get<std::string>() : "";
      (*ls)[Meta(role + "_" + what + "present_" + ln)] = "true";
    }
  }
}

std::string PodReady(const json& pod) {
  const json& conditions = JsonField(JsonField(pod, "status"), "conditions");
  if (conditions.is_array()) {
    for (const auto& c : conditions) {
      if (Str(c, "type") == "Ready") {
        std::string s = Str(c, "status");
        for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return s;
      }
    }
  }
  return "unknown";
}

LabelMap PodLabels(const json& pod) {
  LabelMap ls;
  const json& status = JsonField(pod, "status");
  const json& spec = JsonField(pod, "spec");
  ls[Meta("pod_ip")] = Str(status, "podIP");
  ls[Meta("pod_ready")] = PodReady(pod);
  ls[Meta("pod_phase")] = Str(status, "phase");
  ls[Meta("pod_node_name")] = Str(spec, "nodeName");
  ls[Meta("pod_host_ip")] = Str(status, "hostIP");
  ls[Meta("pod_uid")] = Str(JsonField(pod, "metadata"), "uid");
  AddObjectMeta(pod, "pod", &ls);
  const json& owners = JsonField(JsonField(pod, "metadata"), "ownerReferences");
  if (owners.is_array()) {
    for (const auto& o : owners) {
      const json& controller = JsonField(o, "controller");
      if (controller.is_boolean() && controller.get<bool>()) {
        ls[Meta("pod_controller_kind")] = Str(o, "kind");
        ls[Meta("pod_controller_name")] = Str(o, "name");
        break;
      }
    }
  }
  return ls;
}

struct Container {
  const json* spec;
  bool is_init;
};

// Regular containers first, then init containers, as Prometheus appends them.
std::vector<Container> Containers(const json& pod) {
  std::vector<Container> out;
  const json& spec = JsonField(pod, "spec");
  for (const char* field : {"containers", "initContainers"}) {
    const json& list = JsonField(spec, field);
    if (!list.is_array()) continue;
    for (const auto& c : list) out.push_back({&c, std::string(field) == "initContainers"});
  }
  return out;
}

std::string ContainerId(const json& pod, const Container& c) {
  const json& statuses = JsonField(JsonField(pod, "status"),
                                   c.is_init ? "initContainerStatuses" : "containerStatuses");
  if (!statuses.is_array()) return "";
  std::string name = Str(*c.spec, "name");
  for (const auto& s : statuses) {
    if (Str(s, "name") == name) return Str(s, "containerID");
  }
  return "";
}

int64_t ContainerPort(const json& port) {
  const json& v = JsonField(port, "containerPort");
  return v.is_number_integer() ? v.get<int64_t>() : 0;
}

void AddContainerPortLabels(const Container& c, const json& port, LabelMap* ls) {
  (*ls)[Meta("pod_container_name")] = Str(*c.spec, "name");
  (*ls)[Meta("pod_container_image")] = Str(*c.spec, "image");
  (*ls)[Meta("pod_container_port_name")] = Str(port, "name");
  (*ls)[Meta("pod_container_port_number")] = std::to_string(ContainerPort(port));
  (*ls)[Meta("pod_container_port_protocol")] = Str(port, "protocol");
  (*ls)[Meta("pod_container_init")] = BoolText(c.is_init);
}

// Group labels first, then target labels override them (Prometheus's targetsFromGroup).
Labels Finish(const LabelMap& group, const LabelMap& target) {
  std::vector<Label> v;
  v.reserve(group.size() + target.size());
  auto add = [&v](const std::string& name, const std::string& value) {
    if (!value.empty()) v.push_back(Label{name, value});
  };
  // Both maps are sorted: merge them, the target's value winning on equal names.
  auto g = group.begin();
  auto t = target.begin();
  while (g != group.end() || t != target.end()) {
    if (t == target.end() || (g != group.end() && g->first < t->first)) {
      add(g->first, g->second);
      ++g;
    } else {
      if (g != group.end() && g->first == t->first) ++g;
      add(t->first, t->second);
      ++t;
    }
  }
  return Labels::FromSorted(std::move(v));
}

struct SeenPod {
  const json* pod;
  LabelMap labels;  // PodLabels(*pod), computed once
  std::vector<int64_t> service_ports;
};

}  // namespace

std::vector<Labels> EndpointSliceTargets(const json& slice, const ClusterView& view,
                                         const GroupFilter& filter) {
  std::vector<Labels> out;
  const json& meta = JsonField(slice, "metadata");
  const std::string ns = Str(meta, "namespace");
  LabelMap group;
  group[Meta("namespace")] = ns;
  group[Meta("endpointslice_address_type")] = Str(slice, "addressType");
  AddObjectMeta(slice, "endpointslice", &group);
  const json& slice_labels = JsonField(meta, "labels");
  const json& service_name = JsonField(slice_labels, "kubernetes.io/service-name");
  if (service_name.is_string()) {
    if (const json* svc = view.Service(ns, service_name.get<std::string>())) {
      group[Meta("namespace")] = Str(JsonField(*svc, "metadata"), "namespace");
      AddObjectMeta(*svc, "service", &group);
    }
  }
  if (filter && !filter(Finish(group, {}))) return out;

  std::vector<SeenPod> seen;
  const json& endpoints = JsonField(slice, "endpoints");
  const json& ports = JsonField(slice, "ports");
  if (!endpoints.is_array() || !ports.is_array()) return out;
  for (const auto& ep : endpoints) {
    for (const auto& port : ports) {
      const json& addresses = JsonField(ep, "addresses");
      if (!addresses.is_array()) continue;
      for (const auto& address : addresses) {
        if (!address.is_string()) continue;
        LabelMap target;
        const json& number = JsonField(port, "port");
        bool has_port = number.is_number_integer();
        int64_t port_number = has_port ? number.get<int64_t>() : 0;
        target["__address__"] = has_port ? JoinHostPort(address.get<std::string>(), port_number)
                                         : address.get<std::string>();
        if (JsonField(port, "name").is_string()) {
          target[Meta("endpointslice_port_name")] = Str(port, "name");
        }
        if (JsonField(port, "protocol").is_string()) {
          target[Meta("endpointslice_port_protocol")] = Str(port, "protocol");
        }
        if (has_port) target[Meta("endpointslice_port")] = std::to_string(port_number);
        if (JsonField(port, "appProtocol").is_string()) {
          target[Meta("endpointslice_port_app_protocol")] = Str(port, "appProtocol");
        }
        const json& conditions = JsonField(ep, "conditions");
        for (const char* c : {"ready", "serving", "terminating"}) {
          const json& v = JsonField(conditions, c);
          if (v.is_boolean()) {
            target[Meta(std::string("endpointslice_endpoint_conditions_") + c)] =
                BoolText(v.get<bool>());
          }
        }
        if (JsonField(ep, "hostname").is_string()) {
          target[Meta("endpointslice_endpoint_hostname")] = Str(ep, "hostname");
        }
        const json& ref = JsonField(ep, "targetRef");
        if (ref.is_object()) {
          target[Meta("endpointslice_address_target_kind")] = Str(ref, "kind");
          target[Meta("endpointslice_address_target_name")] = Str(ref, "name");
        }
        if (JsonField(ep, "nodeName").is_string()) {
          target[Meta("endpointslice_endpoint_node_name")] = Str(ep, "nodeName");
        }
        if (JsonField(ep, "zone").is_string()) {
          target[Meta("endpointslice_endpoint_zone")] = Str(ep, "zone");
        }
        const json& topology = JsonField(ep, "deprecatedTopology");
        if (topology.is_object()) {
          for (const auto& [k, v] : topology.items()) {
            std::string ln = SanitizeLabelName(k);
            target[Meta("endpointslice_endpoint_topology_" + ln)] =
                v.is_string() ? v.get<std::string>() : "";
            target[Meta("endpointslice_endpoint_topology_present_" + ln)] = "true";
          }
        }
        const json* pod = nullptr;
        if (ref.is_object() && Str(ref, "kind") == "Pod") {
          pod = view.Pod(Str(ref, "namespace"), Str(ref, "name"));
        }
        if (pod == nullptr) {
          out.push_back(Finish(group, target));
          continue;
        }
        SeenPod* sp = nullptr;
        for (auto& s : seen) {
          if (s.pod == pod) sp = &s;
        }
        if (sp == nullptr) {
          seen.push_back({pod, PodLabels(*pod), {}});
          sp = &seen.back();
        }
        for (const auto& [k, v] : sp->labels) target[k] = v;
        if (has_port) {
          // Every container declaring the port is visited; the last one's labels stay.
          for (const Container& c : Containers(*pod)) {
            const json& cports = JsonField(*c.spec, "ports");
            if (!cports.is_array()) continue;
            for (const auto& cport : cports) {
              if (ContainerPort(cport) == port_number) {
                AddContainerPortLabels(c, cport, &target);
                break;
              }
            }
          }
          sp->service_ports.push_back(port_number);
        }
        out.push_back(Finish(group, target));
      }
    }
  }

  // Container ports of the pods seen that no slice port covered get targets of their own.
  for (const SeenPod& sp : seen) {
    std::string ip = Str(JsonField(*sp.pod, "status"), "podIP");
    if (ip.empty()) continue;
    for (const Container& c : Containers(*sp.pod)) {
      const json& cports = JsonField(*c.spec, "ports");
      if (!cports.is_array()) continue;
      for (const auto& cport : cports) {
        int64_t number = ContainerPort(cport);
        bool covered = false;
        for (int64_t p : sp.service_ports) covered = covered || p == number;
        if (covered) continue;
        LabelMap target = sp.labels;
        target["__address__"] = JoinHostPort(ip, number);
        AddContainerPortLabels(c, cport, &target);
        out.push_back(Finish(group, target));
      }
    }
  }
  return out;
}

std::vector<Labels> EndpointsTargets(const json& endpoints, const ClusterView& view,
                                     const GroupFilter& filter) {
  std::vector<Labels> out;
  const json& meta = JsonField(endpoints, "metadata");
  const std::string ns = Str(meta, "namespace");
  const std::string name = Str(meta, "name");
  LabelMap group;
  group[Meta("namespace")] = ns;
  group[Meta("endpoints_name")] = name;
  // The Service of the same name; Endpoints carry their own labels but not annotations.
  if (const json* svc = view.Service(ns, name)) AddObjectMeta(*svc, "service", &group);
  const json& labels = JsonField(meta, "labels");
  if (labels.is_object()) {
    for (const auto& [k, v] : labels.items()) {
      std::string ln = SanitizeLabelName(k);
      group[Meta("endpoints_label_" + ln)] = v.is_string() ? v.get<std::string>() : "";
      group[Meta("endpoints_labelpresent_" + ln)] = "true";
    }
  }
  if (filter && !filter(Finish(group, {}))) return out;

  std::vector<SeenPod> seen;
  auto add = [&](const json& address, const json& port, const char* ready) {
    const json& number = JsonField(port, "port");
    const int64_t port_number = number.is_number_integer() ? number.get<int64_t>() : 0;
    LabelMap target;
    target["__address__"] = JoinHostPort(Str(address, "ip"), port_number);
    target[Meta("endpoint_port_name")] = Str(port, "name");
    target[Meta("endpoint_port_protocol")] = Str(port, "protocol");
    target[Meta("endpoint_ready")] = ready;
    const json& ref = JsonField(address, "targetRef");
    if (ref.is_object()) {
      target[Meta("endpoint_address_target_kind")] = Str(ref, "kind");
      target[Meta("endpoint_address_target_name")] = Str(ref, "name");
    }
    if (JsonField(address, "nodeName").is_string()) {
      target[Meta("endpoint_node_name")] = Str(address, "nodeName");
    }
    target[Meta("endpoint_hostname")] = Str(address, "hostname");
    const json* pod = nullptr;
    if (ref.is_object() && Str(ref, "kind") == "Pod") {
      pod = view.Pod(Str(ref, "namespace"), Str(ref, "name"));
    }
    if (pod == nullptr) {
      out.push_back(Finish(group, target));
      return;
    }
    SeenPod* sp = nullptr;
    for (auto& s : seen) {
      if (s.pod == pod) sp = &s;
    }
    if (sp == nullptr) {
      seen.push_back({pod, PodLabels(*pod), {}});
      sp = &seen.back();
    }
    for (const auto& [k, v] : sp->labels) target[k] = v;
    // Regular containers only; every one declaring the port is visited, the last one's
    // labels stay. The protocol is the endpoint port's.
    const json& containers = JsonField(JsonField(*pod, "spec"), "containers");
    if (containers.is_array()) {
      for (const auto& c : containers) {
        const json& cports = JsonField(c, "ports");
        if (!cports.is_array()) continue;
        for (const auto& cport : cports) {
          if (ContainerPort(cport) != port_number) continue;
          target[Meta("pod_container_name")] = Str(c, "name");
          target[Meta("pod_container_port_name")] = Str(cport, "name");
          target[Meta("pod_container_port_number")] = std::to_string(port_number);
          target[Meta("pod_container_port_protocol")] = Str(port, "protocol");
          break;
        }
      }
    }
    sp->service_ports.push_back(port_number);
    out.push_back(Finish(group, target));
  };

  const json& subsets = JsonField(endpoints, "subsets");
  if (subsets.is_array()) {
    for (const auto& subset : subsets) {
      const json& ports = JsonField(subset, "ports");
      if (!ports.is_array()) continue;
      for (const auto& port : ports) {
        for (const auto& [field, ready] :
             {std::pair{"addresses", "true"}, std::pair{"notReadyAddresses", "false"}}) {
          const json& addresses = JsonField(subset, field);
          if (!addresses.is_array()) continue;
          for (const auto& address : addresses) add(address, port, ready);
        }
      }
    }
  }

  // Container ports of the pods seen that no endpoint port covered get targets of their own.
  for (const SeenPod& sp : seen) {
    const std::string ip = Str(JsonField(*sp.pod, "status"), "podIP");
    const json& containers = JsonField(JsonField(*sp.pod, "spec"), "containers");
    if (!containers.is_array()) continue;
    for (const auto& c : containers) {
      const json& cports = JsonField(c, "ports");
      if (!cports.is_array()) continue;
      for (const auto& cport : cports) {
        const int64_t number = ContainerPort(cport);
        if (std::find(sp.service_ports.begin(), sp.service_ports.end(), number) !=
            sp.service_ports.end()) {
          continue;
        }
        LabelMap target = sp.labels;
        target["__address__"] = JoinHostPort(ip, number);
        target[Meta("pod_container_name")] = Str(c, "name");
        target[Meta("pod_container_port_name")] = Str(cport, "name");
        target[Meta("pod_container_port_number")] = std::to_string(number);
        target[Meta("pod_container_port_protocol")] = Str(cport, "protocol");
        out.push_back(Finish(group, target));
      }
    }
  }
  return out;
}

std::vector<Labels> PodTargets(const json& pod, const GroupFilter& filter) {
  std::vector<Labels> out;
  std::string ip = Str(JsonField(pod, "status"), "podIP");
  if (ip.empty()) return out;
  LabelMap group = PodLabels(pod);
  group[Meta("namespace")] = Str(JsonField(pod, "metadata"), "namespace");
  if (filter && !filter(Finish(group, {}))) return out;
  for (const Container& c : Containers(pod)) {
    const json& cports = JsonField(*c.spec, "ports");
    LabelMap target;
    target[Meta("pod_container_name")] = Str(*c.spec, "name");
    target[Meta("pod_container_id")] = ContainerId(pod, c);
    target[Meta("pod_container_image")] = Str(*c.spec, "image");
    target[Meta("pod_container_init")] = BoolText(c.is_init);
    if (!cports.is_array() || cports.empty()) {
      // No declared port: the pod IP alone; the user adds a port by relabeling.
      target["__address__"] = ip;
      out.push_back(Finish(group, target));
      continue;
    }
    for (const auto& cport : cports) {
      LabelMap t = target;
      int64_t number = ContainerPort(cport);
      t["__address__"] = JoinHostPort(ip, number);
      t[Meta("pod_container_port_number")] = std::to_string(number);
      t[Meta("pod_container_port_name")] = Str(cport, "name");
      t[Meta("pod_container_port_protocol")] = Str(cport, "protocol");
      out.push_back(Finish(group, t));
    }
  }
  return out;
}

}  // namespace shardwise::opdiscovery
