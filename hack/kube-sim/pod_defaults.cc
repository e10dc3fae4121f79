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

void SetIfMissing(json& obj, const char* key, json value) {
  if (obj.is_object() && !obj.contains(key)) obj[key] = std::move(value);
}

// SetDefaults_HTTPGetAction: path "/" and scheme HTTP.
void DefaultHandler(json& handler) {
  if (!handler.is_object()) return;
  if (auto it = handler.find("httpGet"); it != handler.end() && it->is_object()) {
    SetIfMissing(*it, "path", "/");
    SetIfMissing(*it, "scheme", "HTTP");
  }
}

// SetDefaults_Probe: timeout 1 s, period 10 s, thresholds 1 and 3.
void DefaultProbe(json& probe) {
  if (!probe.is_object()) return;
  SetIfMissing(probe, "timeoutSeconds", 1);
  SetIfMissing(probe, "periodSeconds", 10);
  SetIfMissing(probe, "successThreshold", 1);
  SetIfMissing(probe, "failureThreshold", 3);
  DefaultHandler(probe);
}

// IfNotPresent, except for an image without a tag or tagged :latest (digests count as tags).
std::string PullPolicyFor(const std::string& image) {
  if (image.find('@') != std::string::npos) return "IfNotPresent";
  size_t slash = image.rfind('/');
  size_t colon = image.rfind(':');
  bool tagged = colon != std::string::npos && (slash == std::string::npos || colon > slash);
  if (!tagged || image.substr(colon + 1) == "latest") return "Always";
  return "IfNotPresent";
}

void DefaultContainer(json& c) {
  if (!c.is_object()) return;
  if (c.contains("ports") && c["ports"].is_array()) {
    for (auto& p : c["ports"])
      if (p.is_object() && !p.contains("protocol")) p["protocol"] = "TCP";
  }
  if (c.contains("image") && c["image"].is_string())
    SetIfMissing(c, "imagePullPolicy", PullPolicyFor(c["image"].get<std::string>()));
  SetIfMissing(c, "terminationMessagePath", "/dev/termination-log");
  SetIfMissing(c, "terminationMessagePolicy", "File");
  SetIfMissing(c, "resources", json::object());
  for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"})
    if (c.contains(probe)) DefaultProbe(c[probe]);
  if (c.contains("lifecycle") && c["lifecycle"].is_object()) {
    for (const char* hook : {"postStart", "preStop"})
      if (c["lifecycle"].contains(hook)) DefaultHandler(c["lifecycle"][hook]);
  }
  // SetDefaults_ObjectFieldSelector: fieldRef.apiVersion v1.
  if (c.contains("env") && c["env"].is_array()) {
    for (auto& e : c["env"]) {
      if (!e.is_object() || !e.contains("valueFrom") || !e["valueFrom"].is_object()) continue;
      if (auto it = e["valueFrom"].find("fieldRef"); it != e["valueFrom"].end())
        SetIfMissing(*it, "apiVersion", "v1");
    }
  }
}

void DefaultVolume(json& v) {
  if (!v.is_object()) return;
  for (const char* source : {"configMap", "secret", "downwardAPI", "projected"}) {
    if (auto it = v.find(source); it != v.end() && it->is_object())
      SetIfMissing(*it, "defaultMode", 420);
  }
  if (auto it = v.find("projected"); it != v.end() && it->is_object()) {
    if (auto s = it->find("sources"); s != it->end() && s->is_array()) {
      for (auto& src : *s) {
        if (!src.is_object()) continue;
        if (auto t = src.find("serviceAccountToken"); t != src.end())
          SetIfMissing(*t, "expirationSeconds", 3600);
      }
    }
  }
  if (auto it = v.find("hostPath"); it != v.end()) SetIfMissing(*it, "type", "");
}

void DefaultSpec(json& spec) {
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
    auto it = spec.find(list);
    if (it == spec.end() || !it->is_array()) continue;
    for (auto& c : *it) DefaultContainer(c);
  }
  if (auto it = spec.find("volumes"); it != spec.end() && it->is_array())
    for (auto& v : *it) DefaultVolume(v);
  // SetDefaults_PodSpec, for pods and pod templates alike.
  SetIfMissing(spec, "restartPolicy", "Always");
  SetIfMissing(spec, "terminationGracePeriodSeconds", 30);
  SetIfMissing(spec, "dnsPolicy", "ClusterFirst");
  SetIfMissing(spec, "securityContext", json::object());
  SetIfMissing(spec, "schedulerName", "default-scheduler");
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
