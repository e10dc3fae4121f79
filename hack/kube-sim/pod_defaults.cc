#include "hack/kube-sim/pod_defaults.h"

namespace shardwise::kubesim {
namespace {

json* At(json& obj, std::initializer_list<const char*> path) {
  json* cur = &obj;
  for (const char* k : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(k);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur->is_object() ? cur : nullptr;
}

void DefaultSpec(json& spec) {
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
    auto it = spec.find(list);
    if (it == spec.end() || !it->is_array()) continue;
    for (auto& c : *it) {
      if (!c.is_object() || !c.contains("ports") || !c["ports"].is_array()) continue;
      for (auto& p : c["ports"])
        if (p.is_object() && !p.contains("protocol")) p["protocol"] = "TCP";
    }
  }
}

}  // namespace

void ApplyPodSpecDefaults(const ResourceType& t, json& obj) {
  json* spec = nullptr;
  if (t.group.empty() && t.kind == "Pod") {
    spec = At(obj, {"spec"});
  } else if (t.group.empty() && t.kind == "PodTemplate") {
    spec = At(obj, {"template", "spec"});
  } else if ((t.group == "apps" && (t.kind == "Deployment" || t.kind == "StatefulSet" ||
                                    t.kind == "DaemonSet" || t.kind == "ReplicaSet")) ||
             (t.group == "batch" && t.kind == "Job") ||
             (t.group.empty() && t.kind == "ReplicationController")) {
    spec = At(obj, {"spec", "template", "spec"});
  } else if (t.group == "batch" && t.kind == "CronJob") {
    spec = At(obj, {"spec", "jobTemplate", "spec", "template", "spec"});
  }
  if (spec) DefaultSpec(*spec);
}

}  // namespace shardwise::kubesim
