#include "hack/kube-sim/workload.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/json_field.h"
#include "hack/kube-sim/time_util.h"

namespace shardwise::kubesim {
namespace {

const json* ReadyCondition(const json& pod) {
  const json& conds = JsonField(pod, {"status", "conditions"});
  if (!conds.is_array()) return nullptr;
  for (const auto& c : conds)
    if (c.is_object() && c.value("type", "") == "Ready") return &c;
  return nullptr;
}

}  // namespace

bool PodReady(const json& pod) {
  const json* c = ReadyCondition(pod);
  return c && c->value("status", "") == "True";
}

long long SecondsUntilAvailable(const json& pod, long min_ready_seconds, long long now) {
  if (!PodReady(pod) || min_ready_seconds <= 0) return 0;
  const json* c = ReadyCondition(pod);
  auto since = ParseRfc3339(c->value("lastTransitionTime", ""));
  if (!since) return 0;
  long long left = *since + min_ready_seconds - now;
  return left > 0 ? left : 0;
}

bool PodAvailable(const json& pod, long min_ready_seconds, long long now) {
  return PodReady(pod) && SecondsUntilAvailable(pod, min_ready_seconds, now) == 0;
}

bool PodTerminating(const json& pod) {
  const json& ts = JsonField(pod, {"metadata", "deletionTimestamp"});
  return ts.is_string() && !ts.get<std::string>().empty();
}

bool PodTerminal(const json& pod) {
  const json& phase = JsonField(pod, {"status", "phase"});
  return phase == "Succeeded" || phase == "Failed";
}

bool PodActive(const json& pod) { return !PodTerminating(pod) && !PodTerminal(pod); }

bool ControlledBy(const json& obj, const std::string& uid) {
  const json& refs = JsonField(obj, {"metadata", "ownerReferences"});
  if (!refs.is_array() || uid.empty()) return false;
  for (const auto& r : refs)
    if (r.is_object() && r.value("uid", "") == uid && r.value("controller", false)) return true;
  return false;
}

json ControllerRef(const json& owner, const std::string& api_version, const std::string& kind) {
  const json& md = owner.value("metadata", json::object());
  return {{"apiVersion", api_version},  {"kind", kind},       {"name", md.value("name", "")},
          {"uid", md.value("uid", "")}, {"controller", true}, {"blockOwnerDeletion", true}};
}

std::optional<std::string> LabelSelectorText(const json& sel) {
  if (sel.is_null()) return std::string();
  if (!sel.is_object()) return std::nullopt;
  std::string text;
  auto add = [&](const std::string& r) { text += (text.empty() ? "" : ",") + r; };
  const json& ml = sel.value("matchLabels", json::object());
  if (ml.is_object())
    for (auto& [k, v] : ml.items()) add(k + "=" + (v.is_string() ? v.get<std::string>() : ""));
  const json& me = sel.value("matchExpressions", json::array());
  if (me.is_array()) {
    for (const auto& e : me) {
      if (!e.is_object()) return std::nullopt;
      std::string key = e.value("key", "");
      std::string op = e.value("operator", "");
      std::string values;
      for (const auto& v : e.value("values", json::array()))
        if (v.is_string()) values += (values.empty() ? "" : ",") + v.get<std::string>();
      if (op == "In") {
        add(key + " in (" + values + ")");
      } else if (op == "NotIn") {
        add(key + " notin (" + values + ")");
      } else if (op == "Exists") {
        add(key);
      } else if (op == "DoesNotExist") {
        add("!" + key);
      } else {
        return std::nullopt;
      }
    }
  }
  return text;
}

std::optional<Selector> WorkloadSelector(const json& sel) {
  auto text = LabelSelectorText(sel);
  // An empty selector selects nothing on a workload (the API rejects it anyway).
  if (!text || text->empty()) return std::nullopt;
  auto parsed = Selector::ParseLabels(*text);
  if (!parsed.ok()) return std::nullopt;
  return parsed.value();
}

std::string ShortHash(const json& value, long collision_count) {
  // FNV-1a over the canonical JSON (keys sorted), as the real controllers hash the object.
  uint32_t h = 2166136261u;
  std::string text = value.dump();
  if (collision_count > 0) text += std::to_string(collision_count);
  for (unsigned char c : text) {
    h ^= c;
    h *= 16777619u;
  }
  // Vowels and look-alike digits are left out so no word or ambiguous name forms.
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (char c : std::to_string(h)) out += kAlphabet[static_cast<unsigned char>(c) % 27];
  return out;
}

long IntOrPercent(const json& value, long total, bool round_up, long fallback) {
  if (value.is_number_integer()) return value.get<long>();
  if (!value.is_string()) return fallback;
  std::string s = value.get<std::string>();
  if (s.empty()) return fallback;
  if (s.back() != '%') {
    char* end = nullptr;
    long v = std::strtol(s.c_str(), &end, 10);
    return end && *end == 0 ? v : fallback;
  }
  char* end = nullptr;
  long pct = std::strtol(s.c_str(), &end, 10);
  if (!end || *end != '%') return fallback;
  double v = static_cast<double>(pct) * static_cast<double>(total) / 100.0;
  return static_cast<long>(round_up ? std::ceil(v) : std::floor(v));
}

std::vector<json> ListObjects(Cluster& cluster, const std::string& group, const std::string& plural,
                              const std::string& ns, const std::string& version) {
  TypePtr t = cluster.FindType(group, version, plural);
  if (!t) return {};
  auto list = cluster.List(*t, ns, ListOptions{});
  if (!list.ok()) return {};
  std::vector<json> out;
  for (auto& item : list.value()["items"]) out.push_back(std::move(item));
  return out;
}

void RecordEvent(Cluster& cluster, const json& object, const std::string& type,
                 const std::string& reason, const std::string& message,
                 const std::string& component) {
  TypePtr events = cluster.FindType("", "v1", "events");
  if (!events) return;
  const json& md = object.value("metadata", json::object());
  const std::string ns = md.value("namespace", "default");
  const std::string uid = md.value("uid", "");
  WriteContext ctx;
  ctx.field_manager = component;
  std::string now = NowRfc3339();
  for (auto& e : ListObjects(cluster, "", "events", ns)) {
    if (e.value("involvedObject", json::object()).value("uid", "") != uid ||
        e.value("reason", "") != reason || e.value("message", "") != message)
      continue;
    e["count"] = e.value("count", 1) + 1;
    e["lastTimestamp"] = now;
    cluster.Update(*events, ns, e["metadata"].value("name", ""), e, ctx);
    return;
  }
  char suffix[20];
  std::snprintf(suffix, sizeof suffix, ".%016llx",
                static_cast<unsigned long long>(std::hash<std::string>{}(NewUid())));
  json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", md.value("name", "") + suffix}, {"namespace", ns}}},
             {"involvedObject",
              {{"apiVersion", object.value("apiVersion", "")},
               {"kind", object.value("kind", "")},
               {"name", md.value("name", "")},
               {"namespace", ns},
               {"uid", uid},
               {"resourceVersion", md.value("resourceVersion", "")}}},
             {"reason", reason},
             {"message", message},
             {"type", type},
             {"source", {{"component", component}}},
             {"firstTimestamp", now},
             {"lastTimestamp", now},
             {"count", 1},
             {"reportingComponent", component},
             {"reportingInstance", ""}};
  cluster.Create(*events, ns, ev, ctx);
}

const json* FindCondition(const json& conditions, const std::string& type) {
  if (!conditions.is_array()) return nullptr;
  for (const auto& c : conditions)
    if (c.is_object() && c.value("type", "") == type) return &c;
  return nullptr;
}

bool SetCondition(json& conditions, const std::string& type, const std::string& status,
                  const std::string& reason, const std::string& message, bool with_update_time) {
  if (!conditions.is_array()) conditions = json::array();
  std::string now = NowRfc3339();
  for (auto& c : conditions) {
    if (!c.is_object() || c.value("type", "") != type) continue;
    bool changed = c.value("status", "") != status || c.value("reason", "") != reason ||
                   c.value("message", "") != message;
    if (!changed) return false;
    if (c.value("status", "") != status) c["lastTransitionTime"] = now;
    c["status"] = status;
    c["reason"] = reason;
    c["message"] = message;
    if (with_update_time) c["lastUpdateTime"] = now;
    return true;
  }
  json c = {{"type", type}, {"status", status}};
  if (with_update_time) c["lastUpdateTime"] = now;
  c["lastTransitionTime"] = now;
  c["reason"] = reason;
  c["message"] = message;
  conditions.push_back(std::move(c));
  return true;
}

}  // namespace shardwise::kubesim

namespace shardwise::kubesim {

json TemplatePatch(const json& pod_template) {
  json t = pod_template.is_object() ? pod_template : json::object();
  t["$patch"] = "replace";
  return {{"spec", {{"template", t}}}};
}

Revisions SyncControllerRevisions(Cluster& cluster, const json& owner, const std::string& kind,
                                  const json& data) {
  Revisions out;
  TypePtr t = cluster.FindType("apps", "v1", "controllerrevisions");
  if (!t) return out;
  const json& md = owner["metadata"];
  const std::string ns = md.value("namespace", "");
  const std::string uid = md.value("uid", "");
  for (auto& r : ListObjects(cluster, "apps", "controllerrevisions", ns))
    if (ControlledBy(r, uid)) out.all.push_back(std::move(r));
  std::sort(out.all.begin(), out.all.end(), [](const json& a, const json& b) {
    return a.value("revision", 0L) < b.value("revision", 0L);
  });
  long max_revision = out.all.empty() ? 0 : out.all.back().value("revision", 0L);
  WriteContext ctx;
  ctx.field_manager = kControllerManager;
  for (auto& r : out.all) {
    if (r.value("data", json()) != data) continue;
    if (r.value("revision", 0L) < max_revision) {
      json next = r;
      next["revision"] = max_revision + 1;
      auto u = cluster.Update(*t, ns, r["metadata"].value("name", ""), next, ctx);
      if (!u.ok()) return out;
      r = u.value().object;
    }
    out.update = r;
    return out;
  }
  json labels = owner.value("spec", json::object())
                    .value("selector", json::object())
                    .value("matchLabels", json::object());
  long collisions = owner.value("status", json::object()).value("collisionCount", 0L);
  for (int attempt = 0; attempt < 5; ++attempt, ++collisions) {
    std::string hash = ShortHash(data, collisions);
    json rev = {{"apiVersion", "apps/v1"},
                {"kind", "ControllerRevision"},
                {"metadata",
                 {{"name", md.value("name", "") + "-" + hash},
                  {"namespace", ns},
                  {"labels", labels},
                  {"ownerReferences", json::array({ControllerRef(owner, "apps/v1", kind)})}}},
                {"data", data},
                {"revision", max_revision + 1}};
    rev["metadata"]["labels"]["controller.kubernetes.io/hash"] = hash;
    auto c = cluster.Create(*t, ns, rev, ctx);
    if (c.ok()) {
      out.update = c.value().object;
      out.all.push_back(out.update);
      return out;
    }
    if (c.error().code() != 409) return out;
  }
  return out;
}

void TrimControllerRevisions(Cluster& cluster, const std::vector<json>& all, long limit,
                             const std::vector<std::string>& keep) {
  TypePtr t = cluster.FindType("apps", "v1", "controllerrevisions");
  if (!t) return;
  long excess = static_cast<long>(all.size()) - limit;
  for (const auto& r : all) {
    if (excess <= 0) break;
    std::string name = r["metadata"].value("name", "");
    if (std::find(keep.begin(), keep.end(), name) != keep.end()) continue;
    cluster.Delete(*t, r["metadata"].value("namespace", ""), name, DeleteOptions{});
    --excess;
  }
}

}  // namespace shardwise::kubesim
