#include "hack/kube-sim/cluster.h"

#include "common/base64.h"
#include "common/quantity.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <random>

#include "hack/kube-sim/json_path.h"
#include "hack/kube-sim/managed_fields.h"
#include "hack/kube-sim/patch.h"
#include "hack/kube-sim/pod_defaults.h"
#include "hack/kube-sim/schema.h"
#include "hack/kube-sim/time_util.h"

namespace shardwise::kubesim {
namespace {

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng;
}

std::string HexEncode(const std::string& s) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string HexDecode(const std::string& s) {
  std::string out;
  auto val = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (size_t i = 0; i + 1 < s.size(); i += 2)
    out += static_cast<char>(val(s[i]) * 16 + val(s[i + 1]));
  return out;
}

std::string MetaString(const json& obj, const char* key) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto it = m->find(key);
  return it != m->end() && it->is_string() ? it->get<std::string>() : "";
}

// The object without what does not make a write meaningful.
json ComparableForm(json obj) {
  if (obj.contains("metadata") && obj["metadata"].is_object()) {
    auto& md = obj["metadata"];
    md.erase("resourceVersion");
    if (md.contains("managedFields") && md["managedFields"].is_array())
      for (auto& e : md["managedFields"]) e.erase("time");
  }
  return obj;
}

// Everything that bumps metadata.generation when it changes.
json GenerationForm(json obj, bool has_status) {
  obj.erase("metadata");
  obj.erase("apiVersion");
  obj.erase("kind");
  if (has_status) obj.erase("status");
  return obj;
}

bool IsKind(const ResourceType& t, const char* group, const char* kind) {
  return t.group == group && t.kind == kind;
}

// What the apiserver's defaulting gives apps/v1 workloads.
void ApplyWorkloadDefaults(const std::string& kind, json& obj) {
  if (!obj["spec"].is_object()) obj["spec"] = json::object();
  json& spec = obj["spec"];
  if (kind != "DaemonSet" && !spec.contains("replicas")) spec["replicas"] = 1;
  if (kind != "ReplicaSet" && !spec.contains("revisionHistoryLimit"))
    spec["revisionHistoryLimit"] = 10;
  if (kind == "Deployment") {
    if (!spec.contains("strategy") || !spec["strategy"].is_object())
      spec["strategy"] = {{"type", "RollingUpdate"}};
    json& strategy = spec["strategy"];
    if (!strategy.contains("type")) strategy["type"] = "RollingUpdate";
    if (strategy["type"] == "RollingUpdate") {
      json& ru = strategy["rollingUpdate"];
      if (!ru.is_object()) ru = json::object();
      if (!ru.contains("maxSurge")) ru["maxSurge"] = "25%";
      if (!ru.contains("maxUnavailable")) ru["maxUnavailable"] = "25%";
    }
    if (!spec.contains("progressDeadlineSeconds")) spec["progressDeadlineSeconds"] = 600;
  } else if (kind == "StatefulSet") {
    if (!spec.contains("podManagementPolicy")) spec["podManagementPolicy"] = "OrderedReady";
    if (!spec.contains("updateStrategy") || !spec["updateStrategy"].is_object())
      spec["updateStrategy"] = {{"type", "RollingUpdate"}};
    json& us = spec["updateStrategy"];
    if (!us.contains("type")) us["type"] = "RollingUpdate";
    if (us["type"] == "RollingUpdate") {
      if (!us["rollingUpdate"].is_object()) us["rollingUpdate"] = json::object();
      if (!us["rollingUpdate"].contains("partition")) us["rollingUpdate"]["partition"] = 0;
    }
    json& retention = spec["persistentVolumeClaimRetentionPolicy"];
    if (!retention.is_object()) retention = json::object();
    if (!retention.contains("whenDeleted")) retention["whenDeleted"] = "Retain";
    if (!retention.contains("whenScaled")) retention["whenScaled"] = "Retain";
  } else if (kind == "DaemonSet") {
    if (!spec.contains("updateStrategy") || !spec["updateStrategy"].is_object())
      spec["updateStrategy"] = {{"type", "RollingUpdate"}};
    json& us = spec["updateStrategy"];
    if (!us.contains("type")) us["type"] = "RollingUpdate";
    if (us["type"] == "RollingUpdate") {
      if (!us["rollingUpdate"].is_object()) us["rollingUpdate"] = json::object();
      if (!us["rollingUpdate"].contains("maxUnavailable"))
        us["rollingUpdate"]["maxUnavailable"] = 1;
      if (!us["rollingUpdate"].contains("maxSurge")) us["rollingUpdate"]["maxSurge"] = 0;
    }
  }
}

// autoscaling/v2 defaults: minReplicas 1, a CPU utilization metric of 80% when none is
// given, and, once spec.behavior is present, its unset rules and fields.
void ApplyHpaDefaults(json& obj, bool v2) {
  if (!obj["spec"].is_object()) obj["spec"] = json::object();
  json& spec = obj["spec"];
  if (!spec.contains("minReplicas")) spec["minReplicas"] = 1;
  if (!v2) return;
  if (!spec.contains("metrics") || (spec["metrics"].is_array() && spec["metrics"].empty()))
    spec["metrics"] = json::array(
        {{{"type", "Resource"},
          {"resource",
           {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 80}}}}}}});
  // Quantities are stored in canonical form ("0.5" -> "500m"), as kubectl then prints them.
  if (spec["metrics"].is_array()) {
    for (auto& m : spec["metrics"]) {
      if (!m.is_object()) continue;
      for (const char* src : {"pods", "object", "external", "resource", "containerResource"}) {
        if (!m.contains(src) || !m[src].is_object() || !m[src].contains("target")) continue;
        json& target = m[src]["target"];
        if (!target.is_object()) continue;
        for (const char* field : {"value", "averageValue"}) {
          if (!target.contains(field)) continue;
          json& v = target[field];
          auto q = ParseQuantity(v.is_string() ? v.get<std::string>() : v.dump());
          if (q.ok()) v = FormatQuantity(q.value());
        }
      }
    }
  }
  if (!spec.contains("behavior") || !spec["behavior"].is_object()) return;
  json& b = spec["behavior"];
  auto fill = [](json& rules, const json& dflt_policies, std::optional<int> window) {
    if (!rules.is_object()) rules = json::object();
    if (window && !rules.contains("stabilizationWindowSeconds"))
      rules["stabilizationWindowSeconds"] = *window;
    if (!rules.contains("selectPolicy")) rules["selectPolicy"] = "Max";
    if (!rules.contains("policies") || !rules["policies"].is_array() || rules["policies"].empty())
      rules["policies"] = dflt_policies;
  };
  fill(b["scaleUp"],
       json::array({{{"type", "Pods"}, {"value", 4}, {"periodSeconds", 15}},
                    {{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}}}),
       0);
  fill(b["scaleDown"], json::array({{{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}}}),
       std::nullopt);
}

}  // namespace

std::string NewUid() {
  std::uniform_int_distribution<int> d(0, 15);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    int v = d(Rng());
    if (i == 12) v = 4;
    if (i == 16) v = 8 | (v & 3);
    out += kHex[v];
  }
  return out;
}

std::string NameSuffix() {
  static const char* kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::uniform_int_distribution<int> d(0, 26);
  std::string out;
  for (int i = 0; i < 5; ++i) out += kAlphabet[d(Rng())];
  return out;
}

std::string WriteContext::Manager() const {
  if (!field_manager.empty()) return field_manager;
  std::string ua = user_agent.substr(0, user_agent.find('/'));
  return ua.empty() ? "unknown" : ua;
}

Cluster::Cluster(size_t history_limit) : store_(history_limit) {
  // Several local clusters may run on one machine (parallel e2e tests, a demo), each with a
  // kube-proxy listening on its ClusterIPs: a random start keeps them apart, as pod IPs are.
  cluster_ip_counter_ = 10 + std::random_device{}() % 65000;
  for (const auto& t : BuiltinTypes()) types_.push_back(std::make_shared<ResourceType>(t));
  CreateDefaultNamespaces();
}

void Cluster::CreateDefaultNamespaces() {
  const ResourceType& ns_type = *FindType("", "v1", "namespaces");
  for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    WriteContext ctx;
    ctx.field_manager = "kube-apiserver";
    Create(ns_type, "", json{{"metadata", {{"name", name}}}}, ctx);
  }
}

TypePtr Cluster::FindType(const std::string& group, const std::string& version,
                          const std::string& plural) const {
  std::lock_guard<std::mutex> lock(types_mu_);
  for (const auto& t : types_)
    if (t->group == group && t->version == version && t->plural == plural) return t;
  return nullptr;
}

TypePtr Cluster::TypeForStorage(const std::string& storage_key) const {
  std::lock_guard<std::mutex> lock(types_mu_);
  for (const auto& t : types_)
    if (t->StorageKey() == storage_key) return t;
  return nullptr;
}

std::vector<TypePtr> Cluster::Types() const {
  std::lock_guard<std::mutex> lock(types_mu_);
  return types_;
}

json Cluster::AsVersion(const ResourceType& t, json object) {
  object["apiVersion"] = t.GroupVersion();
  object["kind"] = t.kind;
  return object;
}

ApiResult<json> Cluster::Get(const ResourceType& t, const std::string& ns,
                             const std::string& name) {
  return store_.Transact([&](ObjectStore::Txn& txn) -> ApiResult<json> {
    const json* obj = txn.Get(t.StorageKey(), t.namespaced ? ns : "", name);
    if (!obj) return ApiError::NotFound(t.group, t.plural, name);
    return AsVersion(t, *obj);
  });
}

ApiResult<json> Cluster::List(const ResourceType& t, const std::string& ns,
                              const ListOptions& opts) {
  if (opts.resource_version_match == "Exact" && !opts.resource_version.empty()) {
    uint64_t rv = std::strtoull(opts.resource_version.c_str(), nullptr, 10);
    if (store_.IsCompacted(rv))
      return ApiError::Expired("The resourceVersion for the provided list is too old.");
  }
  return store_.Transact([&](ObjectStore::Txn& txn) -> ApiResult<json> {
    json items = json::array();
    std::string after = HexDecode(opts.continue_token);
    std::string cont;
    std::string last_key;
    for (const json* obj : txn.List(t.StorageKey(), t.namespaced ? ns : "", after)) {
      if (!opts.labels.Matches(*obj) || !opts.fields.Matches(*obj)) continue;
      if (opts.limit > 0 && static_cast<long>(items.size()) == opts.limit) {
        cont = HexEncode(last_key);
        break;
      }
      items.push_back(AsVersion(t, *obj));
      last_key = MetaString(*obj, "namespace") + "/" + MetaString(*obj, "name");
    }
    json list = {{"kind", t.ListKind()},
                 {"apiVersion", t.GroupVersion()},
                 {"metadata", {{"resourceVersion", std::to_string(txn.ResourceVersion())}}},
                 {"items", std::move(items)}};
    if (!cont.empty()) list["metadata"]["continue"] = cont;
    return list;
  });
}

ApiResult<WriteResult> Cluster::Create(const ResourceType& t, const std::string& ns, json body,
                                       WriteContext& ctx) {
  WriteSpec spec{&t, ns, MetaString(body, "name"), "", true, true, false, true};
  if (body.is_object() && t.namespaced) {
    std::string body_ns = MetaString(body, "namespace");
    if (!body_ns.empty() && !ns.empty() && body_ns != ns)
      return ApiError::BadRequest(
          "the namespace of the provided object does not match the namespace sent on the request");
  }
  return Write(
      spec, [&](const json*) -> ApiResult<json> { return body; }, ctx);
}

ApiResult<WriteResult> Cluster::Update(const ResourceType& t, const std::string& ns,
                                       const std::string& name, json body, WriteContext& ctx,
                                       const std::string& subresource) {
  if (!body.is_object()) return ApiError::BadRequest("the body of the request must be an object");
  std::string body_name = MetaString(body, "name");
  if (!body_name.empty() && body_name != name)
    return ApiError::BadRequest("the name of the object (" + body_name +
                                ") does not match the name on the URL (" + name + ")");
  // PUT never creates (AllowCreateOnUpdate is false for every kind served here).
  WriteSpec spec{&t, ns, name, subresource, false, false, false, true};
  return Write(
      spec, [&](const json*) -> ApiResult<json> { return body; }, ctx);
}

ApiResult<WriteResult> Cluster::Patch(const ResourceType& t, const std::string& ns,
                                      const std::string& name, PatchType type, const json& patch,
                                      WriteContext& ctx, const std::string& subresource) {
  if (type == PatchType::kStrategic && !t.strategic) {
    return ApiError::UnsupportedMediaType(
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
  }
  WriteSpec spec{&t, ns, name, subresource, false, false, false};
  if (type == PatchType::kApply) {
    if (ctx.field_manager.empty())
      return ApiError(
          422, "Invalid",
          "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is "
          "required for apply patch",
          json{{"kind", "PatchOptions"},
               {"group", "meta.k8s.io"},
               {"causes", json::array({{{"reason", "FieldValueRequired"},
                                        {"message", "Required value: is required for apply patch"},
                                        {"field", "fieldManager"}}})}});
    if (!patch.is_object()) return ApiError::BadRequest("the apply patch must be an object");
    spec.allow_create = subresource.empty();
    spec.apply = true;
    ApplyRequest req;
    req.manager = ctx.field_manager;
    req.api_version = t.GroupVersion();
    req.force = ctx.force;
    req.skip_status = t.has_status && subresource.empty();
    req.group = t.group;
    req.plural = t.plural;
    req.name = name;
    return Write(
        spec,
        [&](const json* current) -> ApiResult<json> {
          json applied = patch;
          if (!current && !applied.contains("metadata")) applied["metadata"] = json::object();
          return ServerSideApply(current ? *current : json(), applied, req);
        },
        ctx);
  }
  return Write(
      spec,
      [&](const json* current) -> ApiResult<json> {
        switch (type) {
          case PatchType::kMerge:
            if (!patch.is_object())
              return ApiError::BadRequest("a merge patch must be a JSON object");
            return ApplyMergePatch(*current, patch);
          case PatchType::kJson:
            return ApplyJsonPatch(*current, patch);
          default:
            return ApplyStrategicMergePatch(*current, patch);
        }
      },
      ctx);
}

ApiResult<WriteResult> Cluster::Write(const WriteSpec& spec, const Mutator& mutate,
                                      WriteContext& ctx) {
  const ResourceType& t = *spec.type;
  const std::string ns = t.namespaced ? spec.ns : "";
  return store_.Transact([&](ObjectStore::Txn& txn) -> ApiResult<WriteResult> {
    const json* stored = spec.name.empty() ? nullptr : txn.Get(t.StorageKey(), ns, spec.name);
    if (stored && spec.must_create) return ApiError::AlreadyExists(t.group, t.plural, spec.name);
    if (!stored && !spec.allow_create) return ApiError::NotFound(t.group, t.plural, spec.name);
    json current = stored ? AsVersion(t, *stored) : json();
    auto mutated = mutate(stored ? &current : nullptr);
    if (!mutated.ok()) return mutated.error();
    json obj = std::move(mutated).value();
    if (!obj.is_object()) return ApiError::BadRequest("the object must be a JSON object");
    obj = AsVersion(t, std::move(obj));
    if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = json::object();
    json& md = obj["metadata"];
    if (t.namespaced) {
      md["namespace"] = ns;
    } else {
      md.erase("namespace");
    }

    if (!stored) {
      std::string name = md.value("name", "");
      if (name.empty()) name = spec.name;
      if (name.empty() && !md.value("generateName", "").empty()) {
        for (int i = 0; i < 8 && (name.empty() || txn.Get(t.StorageKey(), ns, name)); ++i)
          name = md["generateName"].get<std::string>() + NameSuffix();
      }
      if (name.empty()) {
        return ApiError::Invalid(
            t.group, t.kind, "",
            json::array({{{"reason", "FieldValueRequired"},
                          {"message", "Required value: name or generateName is required"},
                          {"field", "metadata.name"}}}));
      }
      if (txn.Get(t.StorageKey(), ns, name))
        return ApiError::AlreadyExists(t.group, t.plural, name);
      md["name"] = name;
      if (t.namespaced) {
        const json* nso = txn.Get("/namespaces", "", ns);
        if (ns.empty() || !nso) return ApiError::NotFound("", "namespaces", ns);
        if (MetaString(*nso, "deletionTimestamp") != "" ||
            nso->value("status", json::object()).value("phase", "") == "Terminating") {
          return ApiError::Forbidden(QualifiedResource(t.group, t.plural) + " \"" + name +
                                     "\" is forbidden: unable to create new content in namespace " +
                                     ns + " because it is being terminated");
        }
      }
      md["uid"] = NewUid();
      md["creationTimestamp"] = NowRfc3339();
      md["generation"] = 1;
      md.erase("resourceVersion");
      md.erase("deletionTimestamp");
      md.erase("deletionGracePeriodSeconds");
      if (t.has_status) obj.erase("status");  // written through /status only
    } else {
      const json& cur_md = current["metadata"];
      std::string rv = md.value("resourceVersion", "");
      if (!rv.empty() && rv != cur_md.value("resourceVersion", ""))
        return ApiError::Conflict(t.group, t.plural, spec.name);
      md["name"] = spec.name;
      for (const char* k : {"uid", "creationTimestamp", "generation", "deletionTimestamp",
                            "deletionGracePeriodSeconds"}) {
        if (cur_md.contains(k)) {
          md[k] = cur_md[k];
        } else {
          md.erase(k);
        }
      }
      if (spec.subresource == "status") {
        json status = obj.contains("status") ? obj["status"] : json();
        json next = current;
        if (status.is_null()) {
          next.erase("status");
        } else {
          next["status"] = status;
        }
        next["metadata"]["managedFields"] = md.value("managedFields", json::array());
        obj = std::move(next);
      } else if (t.has_status) {
        if (current.contains("status")) {
          obj["status"] = current["status"];
        } else {
          obj.erase("status");
        }
      }
      if (!cur_md.value("deletionTimestamp", "").empty()) {
        auto old_f = cur_md.value("finalizers", std::vector<std::string>{});
        for (const auto& f : obj["metadata"].value("finalizers", std::vector<std::string>{})) {
          if (std::find(old_f.begin(), old_f.end(), f) == old_f.end()) {
            return ApiError::Invalid(
                t.group, t.kind, spec.name,
                json::array({{{"reason", "FieldValueForbidden"},
                              {"message",
                               "Forbidden: no new finalizers can be added if the object is being "
                               "deleted, found new finalizers []string{\"" +
                                   f + "\"}"},
                              {"field", "metadata.finalizers"}}}));
          }
        }
      }
    }
    json& meta = obj["metadata"];
    if (meta.contains("finalizers") && meta["finalizers"].is_array() && meta["finalizers"].empty())
      meta.erase("finalizers");

    ApplyDefaults(t, stored ? &current : nullptr, obj);
    ApiError admitted = Admit(spec, stored ? &current : nullptr, obj, ctx);
    if (!admitted.ok()) return admitted;

    if (!spec.apply) {
      RecordUpdate(stored ? current : json(), obj, ctx.Manager(), t.GroupVersion(),
                   spec.subresource, t.has_status);
    }
    if (stored) {
      if (GenerationForm(obj, t.has_status) != GenerationForm(current, t.has_status))
        obj["metadata"]["generation"] = current["metadata"].value("generation", 1) + 1;
      if (ComparableForm(obj) == ComparableForm(current)) return WriteResult{current, 200};
    }
    if (ctx.dry_run) return WriteResult{obj, stored ? 200 : 201};

    // The last finalizer removed from an object being deleted: it goes now.
    if (stored && !obj["metadata"].value("deletionTimestamp", "").empty() &&
        !obj["metadata"].contains("finalizers")) {
      auto removed = txn.Remove(t.StorageKey(), ns, spec.name);
      AfterWrite(t, stored ? &current : nullptr, nullptr);
      return WriteResult{AsVersion(t, removed.value_or(obj)), 200};
    }
    json saved = txn.Put(t.StorageKey(), obj);
    if (IsKind(t, "apiextensions.k8s.io", "CustomResourceDefinition")) {
      RegisterCrd(saved);
    }
    return WriteResult{saved, stored ? 200 : 201};
  });
}

void Cluster::ApplyDefaults(const ResourceType& t, const json* current, json& obj) {
  json& md = obj["metadata"];
  ApplyPodSpecDefaults(t, obj);
  if (IsKind(t, "", "Namespace")) {
    if (!current && !obj.contains("spec")) obj["spec"] = {{"finalizers", {"kubernetes"}}};
    if (!obj.contains("status") || !obj["status"].contains("phase")) {
      obj["status"]["phase"] =
          current ? current->value("status", json::object()).value("phase", "Active") : "Active";
    }
    md["labels"]["kubernetes.io/metadata.name"] = md["name"];
  } else if (IsKind(t, "", "Service")) {
    json& spec = obj["spec"];
    if (!spec.is_object()) spec = json::object();
    if (!spec.contains("type")) spec["type"] = "ClusterIP";
    if (spec["type"] != "ExternalName") {
      if (!spec.contains("clusterIP")) {
        if (current && current->contains("spec") && (*current)["spec"].contains("clusterIP")) {
          spec["clusterIP"] = (*current)["spec"]["clusterIP"];
        } else {
          // A loopback range: the simulated kube-proxy listens on these addresses, and no
          // traffic may leave the machine.
          uint32_t n = cluster_ip_counter_++;
          spec["clusterIP"] =
              service_ip_prefix_ + std::to_string((n >> 8) & 255) + "." + std::to_string(n & 255);
        }
      }
      if (!spec.contains("clusterIPs")) spec["clusterIPs"] = json::array({spec["clusterIP"]});
      if (!spec.contains("sessionAffinity")) spec["sessionAffinity"] = "None";
      if (!spec.contains("ipFamilies")) spec["ipFamilies"] = json::array({"IPv4"});
      if (!spec.contains("ipFamilyPolicy")) spec["ipFamilyPolicy"] = "SingleStack";
      if (!spec.contains("internalTrafficPolicy")) spec["internalTrafficPolicy"] = "Cluster";
    }
    if (spec.contains("ports") && spec["ports"].is_array()) {
      for (auto& p : spec["ports"]) {
        if (!p.contains("protocol")) p["protocol"] = "TCP";
        if (!p.contains("targetPort") && p.contains("port")) p["targetPort"] = p["port"];
      }
    }
    if (!obj.contains("status")) obj["status"] = {{"loadBalancer", json::object()}};
  } else if (IsKind(t, "", "Secret")) {
    if (obj.contains("stringData") && obj["stringData"].is_object()) {
      for (auto& [k, v] : obj["stringData"].items())
        obj["data"][k] = Base64Encode(v.is_string() ? v.get<std::string>() : v.dump());
      obj.erase("stringData");
    }
    if (!obj.contains("type")) obj["type"] = "Opaque";
  } else if (t.group == "apps" && (t.kind == "Deployment" || t.kind == "StatefulSet" ||
                                   t.kind == "ReplicaSet" || t.kind == "DaemonSet")) {
    ApplyWorkloadDefaults(t.kind, obj);
  } else if (IsKind(t, "autoscaling", "HorizontalPodAutoscaler")) {
    ApplyHpaDefaults(obj, t.version == "v2");
  } else if (IsKind(t, "", "Pod")) {
    if (!current && !obj.contains("status")) obj["status"] = {{"phase", "Pending"}};
    if (!obj["spec"].is_object()) obj["spec"] = json::object();
    json& spec = obj["spec"];
    if (!spec.contains("serviceAccountName"))
      spec["serviceAccountName"] = spec.value("serviceAccount", json("default"));
    if (!spec.contains("serviceAccount")) spec["serviceAccount"] = spec["serviceAccountName"];
    if (!spec.contains("enableServiceLinks")) spec["enableServiceLinks"] = true;
    if (current && !obj.contains("status") && current->contains("status"))
      obj["status"] = (*current)["status"];
  } else if (IsKind(t, "", "PersistentVolumeClaim")) {
    if (!obj["spec"].is_object()) obj["spec"] = json::object();
    if (!obj["spec"].contains("volumeMode")) obj["spec"]["volumeMode"] = "Filesystem";
    if (!obj.contains("status") || !obj["status"].is_object()) {
      obj["status"] = current && current->contains("status") ? (*current)["status"]
                                                             : json{{"phase", "Pending"}};
    }
  } else if (IsKind(t, "", "PersistentVolume")) {
    if (!obj["spec"].is_object()) obj["spec"] = json::object();
    if (!obj["spec"].contains("persistentVolumeReclaimPolicy"))
      obj["spec"]["persistentVolumeReclaimPolicy"] = "Retain";
    if (!obj["spec"].contains("volumeMode")) obj["spec"]["volumeMode"] = "Filesystem";
    if (!obj.contains("status") || !obj["status"].is_object()) {
      obj["status"] = current && current->contains("status") ? (*current)["status"]
                                                             : json{{"phase", "Available"}};
    }
  } else if (t.kind == "Event" && (t.group.empty() || t.group == "events.k8s.io")) {
    // Both shapes are kept so each API group reads what it expects.
    if (obj.contains("regarding") && !obj.contains("involvedObject"))
      obj["involvedObject"] = obj["regarding"];
    if (obj.contains("involvedObject") && !obj.contains("regarding"))
      obj["regarding"] = obj["involvedObject"];
    if (obj.contains("note") && !obj.contains("message")) obj["message"] = obj["note"];
    if (obj.contains("message") && !obj.contains("note")) obj["note"] = obj["message"];
    if (obj.contains("reportingController") && !obj.contains("source"))
      obj["source"] = {{"component", obj["reportingController"]}};
    std::string when =
        obj.value("eventTime", json()).is_string() ? obj["eventTime"].get<std::string>() : "";
    if (when.empty()) when = md.value("creationTimestamp", NowRfc3339());
    if (!obj.contains("firstTimestamp") || obj["firstTimestamp"].is_null())
      obj["firstTimestamp"] = when.substr(0, 19) + "Z";
    if (!obj.contains("lastTimestamp") || obj["lastTimestamp"].is_null())
      obj["lastTimestamp"] = obj["firstTimestamp"];
    if (!obj.contains("count")) obj["count"] = 1;
    if (!obj.contains("type")) obj["type"] = "Normal";
  } else if (IsKind(t, "apiextensions.k8s.io", "CustomResourceDefinition")) {
    const json& spec = obj.value("spec", json::object());
    std::string now = NowRfc3339();
    std::vector<std::string> stored_versions;
    for (const auto& v : spec.value("versions", json::array()))
      if (v.value("storage", false)) stored_versions.push_back(v.value("name", ""));
    json names = spec.value("names", json::object());
    if (!names.contains("singular") && names.contains("kind")) {
      std::string s = names["kind"].get<std::string>();
      for (auto& ch : s) ch = static_cast<char>(std::tolower(ch));
      names["singular"] = s;
    }
    if (!names.contains("listKind") && names.contains("kind"))
      names["listKind"] = names["kind"].get<std::string>() + "List";
    obj["status"] = {{"acceptedNames", names},
                     {"storedVersions", stored_versions},
                     {"conditions",
                      {{{"type", "NamesAccepted"},
                        {"status", "True"},
                        {"lastTransitionTime", now},
                        {"reason", "NoConflicts"},
                        {"message", "no conflicts found"}},
                       {{"type", "Established"},
                        {"status", "True"},
                        {"lastTransitionTime", now},
                        {"reason", "InitialNamesAccepted"},
                        {"message", "the initial names have been accepted"}}}}};
    if (current && current->contains("status")) {
      // Keep transition times stable across updates.
      obj["status"]["conditions"] =
          (*current)["status"].value("conditions", obj["status"]["conditions"]);
    }
  }
}

ApiError Cluster::Admit(const WriteSpec& spec, const json* current, json& obj, WriteContext& ctx) {
  const ResourceType& t = *spec.type;
  if (IsKind(t, "apiextensions.k8s.io", "CustomResourceDefinition")) {
    auto types = CrdToTypes(obj);
    if (!types.ok()) return types.error();
    return {};
  }
  if (t.schema.is_null()) return {};
  SchemaOutcome outcome = ApplySchema(t.schema, obj);
  if (!outcome.pruned.empty() && ctx.field_validation != "Ignore") {
    if (ctx.field_validation == "Strict") {
      // kube-apiserver's three wordings: the apply patch's typed conversion, the decoder of a
      // POST/PUT body (naming the kind), the patched object's strict decoding.
      if (spec.apply) {
        std::string msg = "failed to create typed patch object (" + MetaString(obj, "namespace") +
                          "/" + MetaString(obj, "name") + "; " + t.GroupVersion() +
                          ", Kind=" + t.kind + "): ";
        for (size_t i = 0; i < outcome.pruned.size(); ++i)
          msg += (i ? ", " : "") + std::string(".") + outcome.pruned[i] +
                 ": field not declared in schema";
        return ApiError::BadRequest(msg);
      }
      std::string msg = "strict decoding error: ";
      for (size_t i = 0; i < outcome.pruned.size(); ++i)
        msg += (i ? ", " : "") + std::string("unknown field \"") + outcome.pruned[i] + "\"";
      if (spec.decoded)
        msg = t.kind + " in version \"" + t.version + "\" cannot be handled as a " + t.kind + ": " +
              msg;
      return ApiError::BadRequest(msg);
    }
    for (const auto& p : outcome.pruned) ctx.warnings.push_back("unknown field \"" + p + "\"");
  }
  if (!outcome.causes.empty())
    return ApiError::Invalid(t.group, t.kind, MetaString(obj, "name"), outcome.causes);
  return {};
}

void Cluster::AfterWrite(const ResourceType& t, const json* before, const json* after) {
  if (IsKind(t, "apiextensions.k8s.io", "CustomResourceDefinition") && before && !after)
    UnregisterCrd(*before);
}

void Cluster::RegisterCrd(const json& crd) {
  auto types = CrdToTypes(crd);
  if (!types.ok()) return;
  std::lock_guard<std::mutex> lock(types_mu_);
  const std::string group = crd["spec"].value("group", "");
  const std::string plural = crd["spec"]["names"].value("plural", "");
  types_.erase(std::remove_if(types_.begin(), types_.end(),
                              [&](const TypePtr& p) {
                                return !p->builtin && p->group == group && p->plural == plural;
                              }),
               types_.end());
  for (auto& nt : types.value()) types_.push_back(std::make_shared<ResourceType>(std::move(nt)));
}

void Cluster::UnregisterCrd(const json& crd) {
  const json& spec = crd.value("spec", json::object());
  const std::string group = spec.value("group", "");
  const std::string plural = spec.value("names", json::object()).value("plural", "");
  std::lock_guard<std::mutex> lock(types_mu_);
  types_.erase(std::remove_if(types_.begin(), types_.end(),
                              [&](const TypePtr& p) {
                                return !p->builtin && p->group == group && p->plural == plural;
                              }),
               types_.end());
}

ApiResult<WriteResult> Cluster::Delete(const ResourceType& t, const std::string& ns_in,
                                       const std::string& name, const DeleteOptions& opts) {
  const std::string ns = t.namespaced ? ns_in : "";
  bool crd_removed = false;
  json removed_crd;
  auto result = store_.Transact([&](ObjectStore::Txn& txn) -> ApiResult<WriteResult> {
    const json* stored = txn.Get(t.StorageKey(), ns, name);
    if (!stored) return ApiError::NotFound(t.group, t.plural, name);
    json obj = AsVersion(t, *stored);
    json& md = obj["metadata"];
    if (!opts.precondition_uid.empty() && opts.precondition_uid != md.value("uid", "")) {
      return ApiError(409, "Conflict",
                      "Precondition failed: UID in precondition: " + opts.precondition_uid +
                          ", UID in object meta: " + md.value("uid", ""),
                      json{{"name", name}, {"kind", t.plural}});
    }
    if (!opts.precondition_rv.empty() && opts.precondition_rv != md.value("resourceVersion", ""))
      return ApiError::Conflict(t.group, t.plural, name);
    if (IsKind(t, "", "Namespace")) {
      if (name == "default" || name == "kube-system" || name == "kube-public")
        return ApiError::Forbidden("namespaces \"" + name +
                                   "\" is forbidden: this namespace may not be deleted");
      if (!md.contains("deletionTimestamp")) {
        md["deletionTimestamp"] = NowRfc3339();
        md["deletionGracePeriodSeconds"] = 0;
        obj["status"]["phase"] = "Terminating";
        if (opts.dry_run) return WriteResult{obj, 200};
        obj = txn.Put(t.StorageKey(), obj);
      }
      return WriteResult{obj, 200};
    }
    if (IsKind(t, "", "Pod") && graceful_pod_deletion_) {
      // The pod strategy: only a pod on a node that has not finished needs its kubelet.
      const json& spec = obj.value("spec", json::object());
      std::string phase = obj.value("status", json::object()).value("phase", "");
      json default_grace = spec.value("terminationGracePeriodSeconds", json(30));
      long long grace = opts.grace_period_seconds.value_or(
          default_grace.is_number_integer() ? default_grace.get<long long>() : 30);
      if (grace < 0) grace = 0;
      bool needs_kubelet =
          !spec.value("nodeName", "").empty() && phase != "Succeeded" && phase != "Failed";
      if (needs_kubelet && grace > 0) {
        json current_grace = md.value("deletionGracePeriodSeconds", json(-1));
        long long current = current_grace.is_number_integer() ? current_grace.get<long long>() : -1;
        if (!md.contains("deletionTimestamp") || grace < current) {
          md["deletionTimestamp"] = Rfc3339At(NowSeconds() + grace);
          md["deletionGracePeriodSeconds"] = grace;
          if (opts.propagation == "Foreground" || opts.propagation == "Orphan") {
            std::vector<std::string> f = md.value("finalizers", std::vector<std::string>{});
            std::string want = opts.propagation == "Foreground" ? "foregroundDeletion" : "orphan";
            if (std::find(f.begin(), f.end(), want) == f.end()) f.push_back(want);
            md["finalizers"] = f;
          }
          if (opts.dry_run) return WriteResult{obj, 200};
          obj = txn.Put(t.StorageKey(), obj);
        }
        return WriteResult{obj, 200};
      }
    }
    std::vector<std::string> finalizers = md.value("finalizers", std::vector<std::string>{});
    auto add = [&](const char* f) {
      if (std::find(finalizers.begin(), finalizers.end(), f) == finalizers.end())
        finalizers.push_back(f);
    };
    if (!md.contains("deletionTimestamp")) {
      if (opts.propagation == "Foreground") add("foregroundDeletion");
      if (opts.propagation == "Orphan") add("orphan");
    }
    if (!finalizers.empty()) {
      if (!md.contains("deletionTimestamp")) {
        md["deletionTimestamp"] = NowRfc3339();
        md["deletionGracePeriodSeconds"] = 0;
        md["finalizers"] = finalizers;
        if (opts.dry_run) return WriteResult{obj, 200};
        obj = txn.Put(t.StorageKey(), obj);
      }
      return WriteResult{obj, 200};
    }
    if (opts.dry_run) return WriteResult{obj, 200};
    auto last = txn.Remove(t.StorageKey(), ns, name);
    if (IsKind(t, "apiextensions.k8s.io", "CustomResourceDefinition")) {
      crd_removed = true;
      removed_crd = obj;
      // Deleting a CRD deletes every object of it.
      const json& spec = obj.value("spec", json::object());
      std::string storage =
          spec.value("group", "") + "/" + spec.value("names", json::object()).value("plural", "");
      std::vector<std::pair<std::string, std::string>> keys;
      for (const json* cr : txn.List(storage, ""))
        keys.emplace_back(MetaString(*cr, "namespace"), MetaString(*cr, "name"));
      for (const auto& [cns, cname] : keys) txn.Remove(storage, cns, cname);
    }
    if (t.group.empty() && (t.kind == "Pod" || t.kind == "ServiceAccount"))
      return WriteResult{AsVersion(t, last.value_or(obj)), 200};
    json details = {{"name", name}, {"kind", t.plural}, {"uid", md.value("uid", "")}};
    details["group"] = t.group;
    return WriteResult{json{{"kind", "Status"},
                            {"apiVersion", "v1"},
                            {"metadata", json::object()},
                            {"status", "Success"},
                            {"details", details}},
                       200};
  });
  if (crd_removed) UnregisterCrd(removed_crd);
  return result;
}

ApiResult<json> Cluster::DeleteCollection(const ResourceType& t, const std::string& ns,
                                          const ListOptions& opts, const DeleteOptions& del) {
  auto list = List(t, ns, opts);
  if (!list.ok()) return list.error();
  json items = json::array();
  for (const auto& item : list.value()["items"]) {
    auto r = Delete(t, MetaString(item, "namespace"), MetaString(item, "name"), del);
    if (r.ok()) items.push_back(item);
  }
  json out = list.value();
  out["items"] = items;
  return out;
}

ApiResult<json> Cluster::GetScale(const ResourceType& t, const std::string& ns,
                                  const std::string& name) {
  auto obj = Get(t, ns, name);
  if (!obj.ok()) return obj.error();
  const json& o = obj.value();
  auto spec_replicas = EvalJsonPath(o, t.spec_replicas_path);
  if (!spec_replicas || !spec_replicas->is_number())
    return ApiError::Internal("the spec replicas field \"" + t.spec_replicas_path +
                              "\" does not exist");
  auto status_replicas = EvalJsonPath(o, t.status_replicas_path);
  std::string selector;
  if (t.builtin) {
    auto ml = EvalJsonPath(o, ".spec.selector.matchLabels");
    if (ml) selector = Selector::FromMatchLabels(*ml);
  } else if (!t.label_selector_path.empty()) {
    auto sel = EvalJsonPath(o, t.label_selector_path);
    if (sel && sel->is_string()) selector = sel->get<std::string>();
  }
  const json& md = o["metadata"];
  json scale_md = {{"name", md.value("name", "")},
                   {"uid", md.value("uid", "")},
                   {"resourceVersion", md.value("resourceVersion", "")},
                   {"creationTimestamp", md.value("creationTimestamp", "")}};
  if (t.namespaced) scale_md["namespace"] = md.value("namespace", "");
  json status = {
      {"replicas", status_replicas && status_replicas->is_number() ? *status_replicas : json(0)}};
  if (!selector.empty() || !t.builtin) status["selector"] = selector;
  return json{{"kind", "Scale"},
              {"apiVersion", "autoscaling/v1"},
              {"metadata", scale_md},
              {"spec", {{"replicas", *spec_replicas}}},
              {"status", status}};
}

ApiResult<WriteResult> Cluster::UpdateScale(const ResourceType& t, const std::string& ns,
                                            const std::string& name, const json& scale,
                                            WriteContext& ctx) {
  auto replicas = EvalJsonPath(scale, ".spec.replicas");
  if (!replicas || !replicas->is_number_integer()) {
    return ApiError::Invalid("autoscaling", "Scale", name,
                             json::array({{{"reason", "FieldValueRequired"},
                                           {"message", "Required value"},
                                           {"field", "spec.replicas"}}}));
  }
  if (replicas->get<long long>() < 0) {
    return ApiError::Invalid("autoscaling", "Scale", name,
                             json::array({{{"reason", "FieldValueInvalid"},
                                           {"message", "Invalid value: " + replicas->dump() +
                                                           ": must be greater than or equal to 0"},
                                           {"field", "spec.replicas"}}}));
  }
  std::string rv = scale.value("metadata", json::object()).value("resourceVersion", "");
  WriteSpec spec{&t, ns, name, "scale", false, false, false};
  auto r = Write(
      spec,
      [&](const json* current) -> ApiResult<json> {
        json next = *current;
        if (!rv.empty()) next["metadata"]["resourceVersion"] = rv;
        SetJsonPath(next, t.spec_replicas_path, *replicas);
        return next;
      },
      ctx);
  if (!r.ok()) return r.error();
  auto s = GetScale(t, ns, name);
  if (!s.ok()) return s.error();
  return WriteResult{s.value(), 200};
}

ApiResult<WriteResult> Cluster::PatchScale(const ResourceType& t, const std::string& ns,
                                           const std::string& name, PatchType type,
                                           const json& patch, WriteContext& ctx) {
  auto scale = GetScale(t, ns, name);
  if (!scale.ok()) return scale.error();
  json patched;
  if (type == PatchType::kJson) {
    auto r = ApplyJsonPatch(scale.value(), patch);
    if (!r.ok()) return r.error();
    patched = std::move(r).value();
  } else {
    patched = ApplyMergePatch(scale.value(), patch);
  }
  return UpdateScale(t, ns, name, patched, ctx);
}

json Cluster::Snapshot() { return store_.Snapshot(); }

void Cluster::Restore(const json& snapshot) {
  store_.Restore(snapshot);
  std::vector<json> crds;
  store_.Transact([&](ObjectStore::Txn& txn) {
    for (const json* crd : txn.List("apiextensions.k8s.io/customresourcedefinitions", ""))
      crds.push_back(*crd);
    return 0;
  });
  for (const auto& crd : crds) RegisterCrd(crd);
}

}  // namespace shardwise::kubesim
