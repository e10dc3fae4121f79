#include "hack/kube-sim/resource_type.h"

#include <algorithm>
#include <cctype>
#include <tuple>

#include "hack/kube-sim/json_path.h"
#include "hack/kube-sim/time_util.h"

namespace shardwise::kubesim {
namespace {

const json& Get(const json& obj, std::initializer_list<const char*> keys) {
  static const json kNull;
  const json* cur = &obj;
  for (const char* k : keys) {
    if (!cur->is_object()) return kNull;
    auto it = cur->find(k);
    if (it == cur->end()) return kNull;
    cur = &*it;
  }
  return *cur;
}

long long Int(const json& v) { return v.is_number() ? v.get<long long>() : 0; }
std::string Str(const json& v, const std::string& dflt = "") {
  return v.is_string() ? v.get<std::string>() : dflt;
}

Column Col(std::string name, std::string type, std::function<json(const json&)> cell,
           int priority = 0, std::string description = "") {
  Column c;
  c.name = std::move(name);
  c.type = std::move(type);
  c.cell = std::move(cell);
  c.priority = priority;
  c.description = description.empty() ? c.name : std::move(description);
  return c;
}

Column NameCol() {
  Column c = Col(
      "Name", "string",
      [](const json& o) {
        return Get(o, {"metadata", "name"});
      },
      0,
      "Name must be unique within a namespace. Is required when creating resources, "
      "although some resources may allow a client to request the generation of an "
      "appropriate name automatically.");
  c.format = "name";
  return c;
}

json Age(const json& o) {
  auto t = ParseRfc3339(Str(Get(o, {"metadata", "creationTimestamp"})));
  if (!t) return "<unknown>";
  return HumanDuration(NowSeconds() - *t);
}

Column AgeCol() {
  return Col("Age", "string", Age, 0,
             "CreationTimestamp is a timestamp representing the server time when this object was "
             "created.");
}

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string ContainerField(const json& containers, const char* field) {
  std::vector<std::string> out;
  if (containers.is_array())
    for (const auto& c : containers) out.push_back(Str(c.value(field, json())));
  return Join(out, ",");
}

std::string SelectorString(const json& match_labels) {
  std::vector<std::string> out;
  if (match_labels.is_object())
    for (auto& [k, v] : match_labels.items()) out.push_back(k + "=" + Str(v));
  return out.empty() ? "<none>" : Join(out, ",");
}

std::string ReadyOf(const json& o, const char* ready_field) {
  return std::to_string(Int(Get(o, {"status", ready_field}))) + "/" +
         std::to_string(Get(o, {"spec", "replicas"}).is_number() ? Int(Get(o, {"spec", "replicas"}))
                                                                 : 1);
}

// kubectl's pod printer: READY counts running+ready containers; STATUS is the phase,
// overridden by init progress, a waiting/terminated container's reason and Terminating;
// RESTARTS is "N (AGE ago)" once a container has a last termination.
struct PodSummary {
  int ready = 0;
  int total = 0;
  long long restarts = 0;
  long long last_restart = 0;  // unix seconds, 0 = never
  std::string reason;
};

PodSummary SummarizePod(const json& o) {
  PodSummary s;
  const json& containers = Get(o, {"spec", "containers"});
  s.total = containers.is_array() ? static_cast<int>(containers.size()) : 0;
  s.reason = Str(Get(o, {"status", "phase"}), "Pending");
  if (!Str(Get(o, {"status", "reason"})).empty()) s.reason = Str(Get(o, {"status", "reason"}));
  auto note_restart = [&](const json& c) {
    s.restarts += Int(c.value("restartCount", json()));
    auto t = ParseRfc3339(Str(Get(c, {"lastState", "terminated", "finishedAt"})));
    if (t && *t > s.last_restart) s.last_restart = *t;
  };
  auto terminated_reason = [](const json& t, const std::string& prefix) {
    if (!Str(t.value("reason", json())).empty()) return prefix + Str(t.value("reason", json()));
    if (Int(t.value("signal", json())) != 0)
      return prefix + "Signal:" + std::to_string(Int(t.value("signal", json())));
    return prefix + "ExitCode:" + std::to_string(Int(t.value("exitCode", json())));
  };
  bool initializing = false;
  const json& inits = Get(o, {"status", "initContainerStatuses"});
  const json& init_specs = Get(o, {"spec", "initContainers"});
  if (inits.is_array()) {
    for (size_t i = 0; i < inits.size(); ++i) {
      const json& c = inits[i];
      note_restart(c);
      const json& term = Get(c, {"state", "terminated"});
      const json& wait = Get(c, {"state", "waiting"});
      if (term.is_object() && Int(term.value("exitCode", json())) == 0) continue;
      if (term.is_object()) {
        s.reason = terminated_reason(term, "Init:");
      } else if (wait.is_object() && !Str(wait.value("reason", json())).empty() &&
                 Str(wait.value("reason", json())) != "PodInitializing") {
        s.reason = "Init:" + Str(wait.value("reason", json()));
      } else {
        s.reason = "Init:" + std::to_string(i) + "/" +
                   std::to_string(init_specs.is_array() ? init_specs.size() : 0);
      }
      initializing = true;
      break;
    }
  }
  bool initialized = false;
  bool pod_ready = false;
  const json& conds = Get(o, {"status", "conditions"});
  if (conds.is_array()) {
    for (const auto& c : conds) {
      if (c.value("type", "") == "Initialized" && c.value("status", "") == "True")
        initialized = true;
      if (c.value("type", "") == "Ready" && c.value("status", "") == "True") pod_ready = true;
    }
  }
  if (!initializing || initialized) {
    s.restarts = 0;
    s.last_restart = 0;
    if (inits.is_array())
      for (const auto& c : inits) note_restart(c);
    bool has_running = false;
    const json& cs = Get(o, {"status", "containerStatuses"});
    if (cs.is_array()) {
      for (size_t k = cs.size(); k-- > 0;) {
        const json& c = cs[k];
        note_restart(c);
        const json& wait = Get(c, {"state", "waiting"});
        const json& term = Get(c, {"state", "terminated"});
        if (wait.is_object() && !Str(wait.value("reason", json())).empty()) {
          s.reason = Str(wait.value("reason", json()));
        } else if (term.is_object()) {
          s.reason = terminated_reason(term, "");
        } else if (c.value("ready", false) && Get(c, {"state", "running"}).is_object()) {
          has_running = true;
          s.ready++;
        }
      }
    }
    if (s.reason == "Completed" && has_running) s.reason = pod_ready ? "Running" : "NotReady";
  }
  if (!Get(o, {"metadata", "deletionTimestamp"}).is_null()) s.reason = "Terminating";
  return s;
}

std::vector<Column> PodColumns() {
  return {NameCol(),
          Col("Ready", "string",
              [](const json& o) {
                PodSummary s = SummarizePod(o);
                return std::to_string(s.ready) + "/" + std::to_string(s.total);
              }),
          Col("Status", "string", [](const json& o) { return SummarizePod(o).reason; }),
          Col("Restarts", "string",
              [](const json& o) {
                PodSummary s = SummarizePod(o);
                std::string out = std::to_string(s.restarts);
                if (s.last_restart > 0)
                  out += " (" + HumanDuration(NowSeconds() - s.last_restart) + " ago)";
                return out;
              }),
          AgeCol(),
          Col(
              "IP", "string",
              [](const json& o) {
                return Str(Get(o, {"status", "podIP"}), "<none>");
              },
              1),
          Col(
              "Node", "string",
              [](const json& o) {
                return Str(Get(o, {"spec", "nodeName"}), "<none>");
              },
              1),
          Col(
              "Nominated Node", "string", [](const json& o) { return std::string("<none>"); }, 1),
          Col(
              "Readiness Gates", "string", [](const json& o) { return std::string("<none>"); }, 1)};
}

std::vector<Column> NodeColumns() {
  return {NameCol(),
          Col("Status", "string",
              [](const json& o) {
                std::string out = "Unknown";
                const json& conds = Get(o, {"status", "conditions"});
                if (conds.is_array())
                  for (const auto& c : conds)
                    if (c.value("type", "") == "Ready")
                      out = c.value("status", "") == "True" ? "Ready" : "NotReady";
                if (Get(o, {"spec", "unschedulable"}) == json(true)) out += ",SchedulingDisabled";
                return out;
              }),
          Col("Roles", "string", [](const json& o) { return std::string("<none>"); }),
          AgeCol(),
          Col("Version", "string",
              [](const json& o) {
                return Str(Get(o, {"status", "nodeInfo", "kubeletVersion"}));
              }),
          Col(
              "Internal-IP", "string",
              [](const json& o) {
                const json& addrs = Get(o, {"status", "addresses"});
                if (addrs.is_array())
                  for (const auto& a : addrs)
                    if (a.value("type", "") == "InternalIP") return Str(a.value("address", json()));
                return std::string("<none>");
              },
              1),
          Col(
              "External-IP", "string", [](const json& o) { return std::string("<none>"); }, 1),
          Col(
              "OS-Image", "string",
              [](const json& o) {
                return Str(Get(o, {"status", "nodeInfo", "osImage"}));
              },
              1),
          Col(
              "Kernel-Version", "string",
              [](const json& o) {
                return Str(Get(o, {"status", "nodeInfo", "kernelVersion"}));
              },
              1),
          Col(
              "Container-Runtime", "string",
              [](const json& o) {
                return Str(Get(o, {"status", "nodeInfo", "containerRuntimeVersion"}));
              },
              1)};
}

std::string AccessModes(const json& modes) {
  std::vector<std::string> out;
  if (modes.is_array()) {
    for (const auto& m : modes) {
      std::string s = Str(m);
      out.push_back(s == "ReadWriteOnce"      ? "RWO"
                    : s == "ReadOnlyMany"     ? "ROX"
                    : s == "ReadWriteMany"    ? "RWX"
                    : s == "ReadWriteOncePod" ? "RWOP"
                                              : s);
    }
  }
  return Join(out, ",");
}

std::vector<Column> PvColumns() {
  return {
      NameCol(),
      Col("Capacity", "string",
          [](const json& o) {
            return Str(Get(o, {"spec", "capacity", "storage"}));
          }),
      Col("Access Modes", "string",
          [](const json& o) {
            return AccessModes(Get(o, {"spec", "accessModes"}));
          }),
      Col("Reclaim Policy", "string",
          [](const json& o) {
            return Get(o, {"spec", "persistentVolumeReclaimPolicy"});
          }),
      Col("Status", "string",
          [](const json& o) {
            return Get(o, {"status", "phase"});
          }),
      Col("Claim", "string",
          [](const json& o) {
            const json& ref = Get(o, {"spec", "claimRef"});
            if (!ref.is_object()) return std::string();
            return Str(ref.value("namespace", json())) + "/" + Str(ref.value("name", json()));
          }),
      Col("StorageClass", "string",
          [](const json& o) {
            return Str(Get(o, {"spec", "storageClassName"}));
          }),
      Col("VolumeAttributesClass", "string", [](const json& o) { return std::string("<unset>"); }),
      Col("Reason", "string",
          [](const json& o) {
            return Str(Get(o, {"status", "reason"}));
          }),
      AgeCol()};
}

void AddTemplateColumns(std::vector<Column>& cols, bool selector) {
  cols.push_back(Col(
      "Containers", "string",
      [](const json& o) {
        return ContainerField(Get(o, {"spec", "template", "spec", "containers"}), "name");
      },
      1));
  cols.push_back(Col(
      "Images", "string",
      [](const json& o) {
        return ContainerField(Get(o, {"spec", "template", "spec", "containers"}), "image");
      },
      1));
  if (selector)
    cols.push_back(Col(
        "Selector", "string",
        [](const json& o) {
          return SelectorString(Get(o, {"spec", "selector", "matchLabels"}));
        },
        1));
}

std::vector<Column> WorkloadColumns(bool deployment) {
  std::vector<Column> cols = {
      NameCol(), Col("Ready", "string", [](const json& o) { return ReadyOf(o, "readyReplicas"); })};
  if (deployment) {
    cols.push_back(Col("Up-to-date", "integer", [](const json& o) {
      return Int(Get(o, {"status", "updatedReplicas"}));
    }));
    cols.push_back(Col("Available", "integer", [](const json& o) {
      return Int(Get(o, {"status", "availableReplicas"}));
    }));
  }
  cols.push_back(AgeCol());
  AddTemplateColumns(cols, deployment);
  return cols;
}

std::vector<Column> ReplicaSetColumns() {
  std::vector<Column> cols = {NameCol(),
                              Col("Desired", "integer",
                                  [](const json& o) {
                                    return Int(Get(o, {"spec", "replicas"}));
                                  }),
                              Col("Current", "integer",
                                  [](const json& o) {
                                    return Int(Get(o, {"status", "replicas"}));
                                  }),
                              Col("Ready", "integer",
                                  [](const json& o) {
                                    return Int(Get(o, {"status", "readyReplicas"}));
                                  }),
                              AgeCol()};
  AddTemplateColumns(cols, true);
  return cols;
}

std::vector<Column> DaemonSetColumns() {
  auto status = [](const char* field) {
    return [field](const json& o) { return json(Int(Get(o, {"status", field}))); };
  };
  std::vector<Column> cols = {
      NameCol(),
      Col("Desired", "integer", status("desiredNumberScheduled")),
      Col("Current", "integer", status("currentNumberScheduled")),
      Col("Ready", "integer", status("numberReady")),
      Col("Up-to-date", "integer", status("updatedNumberScheduled")),
      Col("Available", "integer", status("numberAvailable")),
      Col("Node Selector", "string",
          [](const json& o) {
            return SelectorString(Get(o, {"spec", "template", "spec", "nodeSelector"}));
          }),
      AgeCol()};
  AddTemplateColumns(cols, true);
  return cols;
}

// kubectl's "a,b,c + N more..." lists (at most three items, "<unset>" when empty).
std::string ListWithMore(const std::vector<std::string>& items, const char* empty) {
  if (items.empty()) return empty;
  std::vector<std::string> head(items.begin(), items.begin() + std::min<size_t>(3, items.size()));
  std::string out = Join(head, ",");
  if (items.size() > 3) out += " + " + std::to_string(items.size() - 3) + " more...";
  return out;
}

std::vector<Column> EndpointSliceColumns() {
  return {
      NameCol(),
      Col("AddressType", "string", [](const json& o) { return o.value("addressType", json()); }),
      Col("Ports", "string",
          [](const json& o) {
            std::vector<std::string> out;
            const json& ports = o.value("ports", json::array());
            if (ports.is_array())
              for (const auto& p : ports)
                out.push_back(p.contains("port") && p["port"].is_number()
                                  ? std::to_string(Int(p["port"]))
                                  : Str(p.value("name", json()), "*"));
            return ListWithMore(out, "<unset>");
          }),
      Col("Endpoints", "string",
          [](const json& o) {
            std::vector<std::string> out;
            const json& eps = o.value("endpoints", json::array());
            if (eps.is_array())
              for (const auto& e : eps)
                for (const auto& a : e.value("addresses", json::array())) out.push_back(Str(a));
            return ListWithMore(out, "<unset>");
          }),
      AgeCol()};
}

std::vector<Column> EndpointsColumns() {
  return {NameCol(),
          Col("Endpoints", "string",
              [](const json& o) {
                std::vector<std::string> out;
                const json& subsets = o.value("subsets", json::array());
                if (subsets.is_array())
                  for (const auto& s : subsets) {
                    const json& ports = s.value("ports", json::array());
                    const json& addrs = s.value("addresses", json::array());
                    if (!ports.is_array() || ports.empty()) {
                      for (const auto& a : addrs) out.push_back(Str(a.value("ip", json())));
                      continue;
                    }
                    for (const auto& p : ports)
                      for (const auto& a : addrs)
                        out.push_back(Str(a.value("ip", json())) + ":" +
                                      std::to_string(Int(p.value("port", json()))));
                  }
                return ListWithMore(out, "<none>");
              }),
          AgeCol()};
}

// One HPA metric as kubectl's TARGETS column prints it ("450/500", "<unknown>/500",
// "2/1 (avg)", "cpu: <unknown>/80%").
std::string HpaTarget(const json& spec, const json& status) {
  std::string type = Str(spec.value("type", json()));
  auto quantity = [](const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  auto current = [&](const char* src, const char* field) -> std::string {
    const json& cur = status.is_object() ? Get(status, {src, "current", field}) : json();
    return cur.is_null() ? "<unknown>" : quantity(cur);
  };
  auto value_or_avg = [&](const char* src) {
    const json& target = Get(spec, {src, "target"});
    if (target.contains("averageValue"))
      return current(src, "averageValue") + "/" + quantity(target["averageValue"]) + " (avg)";
    return current(src, "value") + "/" + quantity(target.value("value", json("")));
  };
  if (type == "External") return value_or_avg("external");
  if (type == "Object") return value_or_avg("object");
  if (type == "Pods")
    return current("pods", "averageValue") + "/" +
           quantity(Get(spec, {"pods", "target", "averageValue"}));
  if (type == "Resource" || type == "ContainerResource") {
    const char* src = type == "Resource" ? "resource" : "containerResource";
    const json& target = Get(spec, {src, "target"});
    std::string res = Str(Get(spec, {src, "name"}));
    std::string text;
    if (target.contains("averageValue")) {
      text = current(src, "averageValue") + "/" + quantity(target["averageValue"]);
    } else {
      const json& cur =
          status.is_object() ? Get(status, {src, "current", "averageUtilization"}) : json();
      text = (cur.is_number() ? std::to_string(Int(cur)) + "%" : std::string("<unknown>")) + "/" +
             (target.contains("averageUtilization")
                  ? std::to_string(Int(target["averageUtilization"])) + "%"
                  : std::string("<auto>"));
    }
    if (type == "ContainerResource")
      return Str(Get(spec, {src, "container"})) + ": " + res + " " + text;
    return res + ": " + text;
  }
  return "<unknown type>";
}

std::vector<Column> HpaColumns() {
  return {NameCol(),
          Col("Reference", "string",
              [](const json& o) {
                return Str(Get(o, {"spec", "scaleTargetRef", "kind"})) + "/" +
                       Str(Get(o, {"spec", "scaleTargetRef", "name"}));
              }),
          Col("Targets", "string",
              [](const json& o) {
                const json& specs = Get(o, {"spec", "metrics"});
                const json& statuses = Get(o, {"status", "currentMetrics"});
                if (!specs.is_array() || specs.empty()) return std::string("<none>");
                std::vector<std::string> out;
                for (size_t i = 0; i < specs.size(); ++i)
                  out.push_back(HpaTarget(
                      specs[i], statuses.is_array() && i < statuses.size() ? statuses[i] : json()));
                std::vector<std::string> head(out.begin(),
                                              out.begin() + std::min<size_t>(2, out.size()));
                std::string text = Join(head, ", ");
                if (out.size() > 2) text += " + " + std::to_string(out.size() - 2) + " more...";
                return text;
              }),
          Col("MinPods", "string",
              [](const json& o) {
                const json& v = Get(o, {"spec", "minReplicas"});
                return v.is_number() ? std::to_string(Int(v)) : std::string("<unset>");
              }),
          Col("MaxPods", "integer",
              [](const json& o) {
                return Int(Get(o, {"spec", "maxReplicas"}));
              }),
          Col("Replicas", "integer",
              [](const json& o) {
                return Int(Get(o, {"status", "currentReplicas"}));
              }),
          AgeCol()};
}

std::vector<Column> ControllerRevisionColumns() {
  return {
      NameCol(),
      Col("Controller", "string",
          [](const json& o) {
            const json& refs = Get(o, {"metadata", "ownerReferences"});
            if (refs.is_array())
              for (const auto& r : refs) {
                if (!r.value("controller", false)) continue;
                std::string api = Str(r.value("apiVersion", json()));
                std::string group =
                    api.find('/') == std::string::npos ? "" : "." + api.substr(0, api.find('/'));
                std::string kind = Str(r.value("kind", json()));
                for (auto& ch : kind) ch = static_cast<char>(std::tolower(ch));
                return kind + group + "/" + Str(r.value("name", json()));
              }
            return std::string("<none>");
          }),
      Col("Revision", "integer", [](const json& o) { return Int(o.value("revision", json())); }),
      AgeCol()};
}

std::vector<Column> PvcColumns() {
  return {NameCol(),
          Col("Status", "string",
              [](const json& o) {
                return Str(Get(o, {"status", "phase"}));
              }),
          Col("Volume", "string",
              [](const json& o) {
                return Str(Get(o, {"spec", "volumeName"}));
              }),
          Col("Capacity", "string",
              [](const json& o) {
                return Str(Get(o, {"status", "capacity", "storage"}));
              }),
          Col("Access Modes", "string",
              [](const json& o) {
                std::vector<std::string> out;
                const json& modes = Get(o, {"status", "accessModes"});
                if (modes.is_array())
                  for (const auto& m : modes) {
                    std::string s = Str(m);
                    out.push_back(s == "ReadWriteOnce"      ? "RWO"
                                  : s == "ReadOnlyMany"     ? "ROX"
                                  : s == "ReadWriteMany"    ? "RWX"
                                  : s == "ReadWriteOncePod" ? "RWOP"
                                                            : s);
                  }
                return Join(out, ",");
              }),
          Col("StorageClass", "string",
              [](const json& o) {
                return Str(Get(o, {"spec", "storageClassName"}));
              }),
          Col("VolumeAttributesClass", "string",
              [](const json& o) {
                return Str(Get(o, {"spec", "volumeAttributesClassName"}), "<unset>");
              }),
          AgeCol(),
          Col(
              "VolumeMode", "string",
              [](const json& o) {
                return Str(Get(o, {"spec", "volumeMode"}));
              },
              1)};
}

std::vector<Column> ServiceColumns() {
  return {NameCol(),
          Col("Type", "string",
              [](const json& o) {
                return Get(o, {"spec", "type"});
              }),
          Col("Cluster-IP", "string",
              [](const json& o) {
                return Str(Get(o, {"spec", "clusterIP"}), "<none>");
              }),
          Col("External-IP", "string", [](const json& o) { return std::string("<none>"); }),
          Col("Port(s)", "string",
              [](const json& o) {
                std::vector<std::string> out;
                const json& ports = Get(o, {"spec", "ports"});
                if (ports.is_array())
                  for (const auto& p : ports)
                    out.push_back(std::to_string(Int(p.value("port", json()))) + "/" +
                                  p.value("protocol", std::string("TCP")));
                return out.empty() ? std::string("<none>") : Join(out, ",");
              }),
          AgeCol(),
          Col(
              "Selector", "string",
              [](const json& o) {
                return SelectorString(Get(o, {"spec", "selector"}));
              },
              1)};
}

json CountKeys(const json& v) { return v.is_object() ? static_cast<long long>(v.size()) : 0LL; }

// kube-apiserver's RBAC printers: roles show when they were created, bindings their role
// and (-o wide) their subjects.
std::vector<Column> RoleColumns() {
  return {NameCol(), Col("Created At", "date", [](const json& o) {
            return Get(o, {"metadata", "creationTimestamp"});
          })};
}

std::vector<Column> RoleBindingColumns() {
  auto subjects = [](const char* kind) {
    return [kind](const json& o) -> json {
      std::vector<std::string> names;
      const json& list = o.value("subjects", json::array());
      if (list.is_array()) {
        for (const auto& s : list) {
          if (Str(s.value("kind", json())) != kind) continue;
          std::string name = Str(s.value("name", json()));
          if (std::string(kind) == "ServiceAccount")
            name = Str(s.value("namespace", json())) + "/" + name;
          names.push_back(name);
        }
      }
      return Join(names, ", ");
    };
  };
  return {NameCol(),
          Col("Role", "string",
              [](const json& o) {
                return Str(Get(o, {"roleRef", "kind"})) + "/" + Str(Get(o, {"roleRef", "name"}));
              }),
          AgeCol(),
          Col("Users", "string", subjects("User"), 1),
          Col("Groups", "string", subjects("Group"), 1),
          Col("ServiceAccounts", "string", subjects("ServiceAccount"), 1)};
}

// kube-apiserver's event printer: LAST SEEN falls back to the first time (or eventTime),
// a series' last observation wins, and -o wide adds SUBOBJECT, SOURCE, FIRST SEEN, COUNT
// and NAME.
std::vector<Column> EventColumns() {
  auto since = [](const std::string& ts) -> json {
    auto t = ParseRfc3339(ts);
    return t ? HumanDuration(NowSeconds() - *t) : "<unknown>";
  };
  auto first_seen = [since](const json& o) -> json {
    std::string ts = Str(o.value("firstTimestamp", json()));
    if (ts.empty()) ts = Str(o.value("eventTime", json()));
    if (ts.empty()) ts = Str(Get(o, {"metadata", "creationTimestamp"}));
    return since(ts);
  };
  auto last_seen = [since, first_seen](const json& o) -> json {
    std::string series = Str(Get(o, {"series", "lastObservedTime"}));
    if (!series.empty()) return since(series);
    std::string ts = Str(o.value("lastTimestamp", json()));
    return ts.empty() ? first_seen(o) : since(ts);
  };
  auto first_non_empty = [](const json& a, const json& b) {
    std::string s = Str(a);
    return s.empty() ? Str(b) : s;
  };
  return {Col("Last Seen", "string", last_seen),
          Col("Type", "string", [](const json& o) { return o.value("type", json()); }),
          Col("Reason", "string", [](const json& o) { return o.value("reason", json()); }),
          Col("Object", "string",
              [](const json& o) {
                std::string kind = Str(Get(o, {"involvedObject", "kind"}));
                for (auto& ch : kind) ch = static_cast<char>(std::tolower(ch));
                std::string name = Str(Get(o, {"involvedObject", "name"}));
                return name.empty() ? kind : kind + "/" + name;
              }),
          Col(
              "Subobject", "string",
              [](const json& o) {
                return Str(Get(o, {"involvedObject", "fieldPath"}));
              },
              1),
          Col(
              "Source", "string",
              [first_non_empty](const json& o) {
                std::string component = first_non_empty(Get(o, {"source", "component"}),
                                                        o.value("reportingComponent", json()));
                std::string instance = first_non_empty(Get(o, {"source", "host"}),
                                                       o.value("reportingInstance", json()));
                return instance.empty() ? component : component + ", " + instance;
              },
              1),
          Col("Message", "string",
              [](const json& o) {
                std::string m = Str(o.value("message", json()));
                const char* ws = " \t\n\r";
                size_t b = m.find_first_not_of(ws), e = m.find_last_not_of(ws);
                return b == std::string::npos ? std::string() : m.substr(b, e - b + 1);
              }),
          Col("First Seen", "string", first_seen, 1),
          Col(
              "Count", "integer",
              [](const json& o) {
                if (Get(o, {"series", "count"}).is_number())
                  return Int(Get(o, {"series", "count"}));
                long long n = Int(o.value("count", json()));
                return n == 0 ? 1LL : n;
              },
              1),
          [] {
            Column c = NameCol();
            c.priority = 1;
            return c;
          }()};
}

ResourceType T(std::string group, std::string version, std::string kind, std::string plural,
               std::vector<std::string> short_names, bool namespaced,
               std::vector<Column> columns = {}) {
  ResourceType t;
  t.group = std::move(group);
  t.version = std::move(version);
  t.kind = std::move(kind);
  t.plural = std::move(plural);
  t.singular = t.kind;
  for (auto& ch : t.singular) ch = static_cast<char>(std::tolower(ch));
  t.short_names = std::move(short_names);
  t.namespaced = namespaced;
  t.columns = std::move(columns);
  return t;
}

std::vector<ResourceType> MakeBuiltins() {
  std::vector<ResourceType> out;
  auto add = [&](ResourceType t, bool status = false, bool scale = false, bool all = false) {
    t.has_status = status;
    t.has_scale = scale;
    if (all) t.categories = {"all"};
    if (t.columns.empty()) t.columns = {NameCol(), AgeCol()};
    out.push_back(std::move(t));
  };
  add(T("", "v1", "Namespace", "namespaces", {"ns"}, false,
        {NameCol(),
         Col("Status", "string",
             [](const json& o) {
               return Get(o, {"status", "phase"});
             }),
         AgeCol()}),
      true);
  add(T("", "v1", "Pod", "pods", {"po"}, true, PodColumns()), true, false, true);
  add(T("", "v1", "Node", "nodes", {"no"}, false, NodeColumns()), true);
  add(T("", "v1", "PersistentVolume", "persistentvolumes", {"pv"}, false, PvColumns()), true);
  add(T("", "v1", "Service", "services", {"svc"}, true, ServiceColumns()), true, false, true);
  add(T("", "v1", "Endpoints", "endpoints", {"ep"}, true, EndpointsColumns()));
  add(T("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", {"pvc"}, true, PvcColumns()),
      true);
  add(T("", "v1", "ConfigMap", "configmaps", {"cm"}, true,
        {NameCol(),
         Col("Data", "integer",
             [](const json& o) {
               return static_cast<long long>(
                   CountKeys(o.value("data", json())).get<long long>() +
                   CountKeys(o.value("binaryData", json())).get<long long>());
             }),
         AgeCol()}));
  add(T("", "v1", "Secret", "secrets", {}, true,
        {NameCol(), Col("Type", "string", [](const json& o) { return o.value("type", json()); }),
         Col("Data", "integer", [](const json& o) { return CountKeys(o.value("data", json())); }),
         AgeCol()}));
  add(T("", "v1", "ServiceAccount", "serviceaccounts", {"sa"}, true,
        {NameCol(),
         Col("Secrets", "integer",
             [](const json& o) {
               return static_cast<long long>(o.value("secrets", json::array()).size());
             }),
         AgeCol()}));
  add(T("", "v1", "Event", "events", {"ev"}, true, EventColumns()));
  add(T("apps", "v1", "Deployment", "deployments", {"deploy"}, true, WorkloadColumns(true)), true,
      true, true);
  add(T("apps", "v1", "StatefulSet", "statefulsets", {"sts"}, true, WorkloadColumns(false)), true,
      true, true);
  add(T("apps", "v1", "ReplicaSet", "replicasets", {"rs"}, true, ReplicaSetColumns()), true, true,
      true);
  add(T("apps", "v1", "DaemonSet", "daemonsets", {"ds"}, true, DaemonSetColumns()), true, false,
      true);
  add(T("apps", "v1", "ControllerRevision", "controllerrevisions", {}, true,
        ControllerRevisionColumns()));
  add(T("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", {}, true,
        EndpointSliceColumns()));
  add(T("coordination.k8s.io", "v1", "Lease", "leases", {}, true,
        {NameCol(),
         Col("Holder", "string",
             [](const json& o) {
               return Get(o, {"spec", "holderIdentity"});
             }),
         AgeCol()}));
  std::vector<Column> hpa_cols = HpaColumns();
  add(T("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", {"hpa"}, true,
        hpa_cols),
      true, false, true);
  add(T("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", {"hpa"}, true,
        hpa_cols),
      true, false, true);
  add(T("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", {"pdb"}, true,
        {NameCol(),
         Col("Min Available", "string",
             [](const json& o) {
               const json& v = Get(o, {"spec", "minAvailable"});
               return v.is_null() ? std::string("N/A") : (v.is_string() ? Str(v) : v.dump());
             }),
         Col("Max Unavailable", "string",
             [](const json& o) {
               const json& v = Get(o, {"spec", "maxUnavailable"});
               return v.is_null() ? std::string("N/A") : (v.is_string() ? Str(v) : v.dump());
             }),
         Col("Allowed Disruptions", "integer",
             [](const json& o) {
               return Int(Get(o, {"status", "disruptionsAllowed"}));
             }),
         AgeCol()}),
      true);
  // Stored and listed, not enforced: the local cluster behaves like a cluster whose network
  // plugin ignores NetworkPolicies (all pods share the host's loopback).
  add(T("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", {"netpol"}, true,
        {NameCol(),
         Col("Pod-Selector", "string",
             [](const json& o) {
               const json& m = Get(o, {"spec", "podSelector", "matchLabels"});
               std::string out;
               if (m.is_object())
                 for (const auto& [k, v] : m.items())
                   out += (out.empty() ? "" : ",") + k + "=" + Str(v);
               return out.empty() ? std::string("<none>") : out;
             }),
         AgeCol()}));
  add(T("apiregistration.k8s.io", "v1", "APIService", "apiservices", {}, false,
        {NameCol(),
         Col("Service", "string",
             [](const json& o) {
               const json& s = Get(o, {"spec", "service"});
               return s.is_object()
                          ? Str(s.value("namespace", json())) + "/" + Str(s.value("name", json()))
                          : std::string("Local");
             }),
         Col("Available", "string",
             [](const json& o) {
               const json& conds = Get(o, {"status", "conditions"});
               if (conds.is_array())
                 for (const auto& c : conds)
                   if (c.value("type", "") == "Available") return Str(c.value("status", json()));
               return std::string("Unknown");
             }),
         AgeCol()}),
      true);
  const std::string rbac = "rbac.authorization.k8s.io";
  add(T(rbac, "v1", "Role", "roles", {}, true, RoleColumns()));
  add(T(rbac, "v1", "RoleBinding", "rolebindings", {}, true, RoleBindingColumns()));
  add(T(rbac, "v1", "ClusterRole", "clusterroles", {}, false, RoleColumns()));
  add(T(rbac, "v1", "ClusterRoleBinding", "clusterrolebindings", {}, false, RoleBindingColumns()));
  add(T("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
        {"crd", "crds"}, false,
        {NameCol(), Col("Created At", "date",
                        [](const json& o) {
                          return Get(o, {"metadata", "creationTimestamp"});
                        })}),
      true);
  add(T("events.k8s.io", "v1", "Event", "events", {"ev"}, true, EventColumns()));
  out.back().storage_override = "/events";
  // metrics-server's API, filled by the simulated kubelet (kubectl top).
  add(T("metrics.k8s.io", "v1beta1", "PodMetrics", "pods", {}, true));
  add(T("metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", {}, false));
  // Answered by auth/auth_api.cc, never stored.
  for (auto [group, kind, plural, namespaced] :
       std::vector<std::tuple<std::string, std::string, std::string, bool>>{
           {"authentication.k8s.io", "TokenReview", "tokenreviews", false},
           {"authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews", false},
           {"authorization.k8s.io", "LocalSubjectAccessReview", "localsubjectaccessreviews", true},
           {"authorization.k8s.io", "SelfSubjectAccessReview", "selfsubjectaccessreviews", false},
           {"authorization.k8s.io", "SelfSubjectRulesReview", "selfsubjectrulesreviews", false},
           {"authorization.k8s.io", "SubjectAccessReview", "subjectaccessreviews", false}}) {
    add(T(group, "v1", kind, plural, {}, namespaced));
    out.back().verbs = {"create"};
  }
  return out;
}

}  // namespace

const std::vector<ResourceType>& BuiltinTypes() {
  static const std::vector<ResourceType> types = MakeBuiltins();
  return types;
}

std::string HumanDuration(long long s) {
  auto f = [](long long a, const char* u1, long long b = 0, const char* u2 = nullptr) {
    std::string out = std::to_string(a) + u1;
    if (u2 && b != 0) out += std::to_string(b) + u2;
    return out;
  };
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 120) return f(s, "s");
  long long minutes = s / 60;
  if (minutes < 10) return f(minutes, "m", s % 60, "s");
  if (minutes < 180) return f(minutes, "m");
  long long hours = minutes / 60;
  if (hours < 8) return f(hours, "h", minutes % 60, "m");
  if (hours < 48) return f(hours, "h");
  if (hours < 24 * 8) return f(hours / 24, "d", hours % 24, "h");
  if (hours < 24 * 365 * 2) return f(hours / 24, "d");
  if (hours < 24 * 365 * 8) return f(hours / 24 / 365, "y", (hours / 24) % 365, "d");
  return f(hours / 24 / 365, "y");
}

ApiResult<std::vector<ResourceType>> CrdToTypes(const json& crd) {
  const json& spec = crd.value("spec", json::object());
  const json& names = spec.value("names", json::object());
  std::string name = crd.value("metadata", json::object()).value("name", "");
  std::string group = spec.value("group", "");
  std::string plural = names.value("plural", "");
  json causes = json::array();
  auto cause = [&](const char* reason, std::string field, std::string msg) {
    causes.push_back(
        {{"reason", reason}, {"field", std::move(field)}, {"message", std::move(msg)}});
  };
  if (group.empty()) cause("FieldValueRequired", "spec.group", "Required value");
  if (plural.empty()) cause("FieldValueRequired", "spec.names.plural", "Required value");
  if (names.value("kind", "").empty())
    cause("FieldValueRequired", "spec.names.kind", "Required value");
  if (!plural.empty() && !group.empty() && name != plural + "." + group)
    cause("FieldValueInvalid", "metadata.name",
          "Invalid value: \"" + name + "\": must be spec.names.plural+\".\"+spec.group");
  const json& versions = spec.value("versions", json::array());
  if (!versions.is_array() || versions.empty())
    cause("FieldValueRequired", "spec.versions", "Required value");
  if (!causes.empty())
    return ApiError::Invalid("apiextensions.k8s.io", "CustomResourceDefinition", name, causes);

  std::vector<ResourceType> out;
  for (const auto& v : versions) {
    if (!v.value("served", true)) continue;
    ResourceType t;
    t.builtin = false;
    t.strategic = false;
    t.group = group;
    t.version = v.value("name", "");
    t.kind = names.value("kind", "");
    t.plural = plural;
    t.singular = names.value("singular", "");
    if (t.singular.empty()) {
      t.singular = t.kind;
      for (auto& ch : t.singular) ch = static_cast<char>(std::tolower(ch));
    }
    t.short_names = names.value("shortNames", std::vector<std::string>{});
    t.categories = names.value("categories", std::vector<std::string>{});
    t.namespaced = spec.value("scope", "Namespaced") != "Cluster";
    const json& sub = v.value("subresources", json::object());
    t.has_status = sub.contains("status");
    if (sub.contains("scale")) {
      const json& sc = sub["scale"];
      t.has_scale = true;
      t.spec_replicas_path = sc.value("specReplicasPath", ".spec.replicas");
      t.status_replicas_path = sc.value("statusReplicasPath", ".status.replicas");
      t.label_selector_path = sc.value("labelSelectorPath", "");
    }
    t.schema = v.value("schema", json::object()).value("openAPIV3Schema", json());
    t.columns.push_back(NameCol());
    if (v.contains("additionalPrinterColumns")) {
      for (const auto& pc : v["additionalPrinterColumns"]) {
        Column c;
        c.name = pc.value("name", "");
        c.type = pc.value("type", "string");
        c.format = pc.value("format", "");
        c.json_path = pc.value("jsonPath", "");
        c.priority = pc.value("priority", 0);
        c.description =
            pc.value("description",
                     "Custom resource definition column (in JSONPath format): " + c.json_path);
        t.columns.push_back(std::move(c));
      }
    } else {
      Column c;
      c.name = "Age";
      c.type = "date";
      c.json_path = ".metadata.creationTimestamp";
      c.description = "Custom resource definition column (in JSONPath format): " + c.json_path;
      t.columns.push_back(std::move(c));
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace shardwise::kubesim
