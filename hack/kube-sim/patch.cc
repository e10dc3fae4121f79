#include "hack/kube-sim/patch.h"

#include <algorithm>
#include <set>

namespace shardwise::kubesim {

json ApplyMergePatch(const json& target, const json& patch) {
  json out = target;
  out.merge_patch(patch);
  return out;
}

ApiResult<json> ApplyJsonPatch(const json& target, const json& patch) {
  if (!patch.is_array()) {
    return ApiError::BadRequest(
        "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  }
  try {
    return target.patch(patch);
  } catch (const std::exception& e) {
    return ApiError(
        422, "Invalid",
        std::string("the server rejected our request due to an error in our request: ") + e.what());
  }
}

std::string MergeKeyFor(const std::string& field, const json& sample) {
  static const std::set<std::string> kByName = {
      "containers", "initContainers",   "ephemeralContainers", "env",
      "volumes",    "imagePullSecrets", "volumeClaimTemplates"};
  if (kByName.count(field)) return "name";
  if (field == "volumeMounts") return "mountPath";
  if (field == "volumeDevices") return "devicePath";
  if (field == "conditions") return "type";
  if (field == "ownerReferences") return "uid";
  if (field == "hostAliases") return "ip";
  if (field == "ports") {
    if (sample.is_object() && sample.contains("containerPort")) return "containerPort";
    return "port";
  }
  return "";
}

namespace {

// The "$patch" directive of a patch object, "" when absent or not a string (a number there
// is malformed input: it must not throw).
std::string Directive(const json& patch) {
  if (!patch.is_object()) return "";
  auto it = patch.find("$patch");
  return it != patch.end() && it->is_string() ? it->get<std::string>() : "";
}

bool IsDirective(const std::string& key) {
  return key == "$patch" || key == "$retainKeys" || key.rfind("$setElementOrder/", 0) == 0 ||
         key.rfind("$deleteFromPrimitiveList/", 0) == 0;
}

json StripDirectives(const json& v) {
  if (v.is_object()) {
    json out = json::object();
    for (auto& [k, e] : v.items())
      if (!IsDirective(k)) out[k] = StripDirectives(e);
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const auto& e : v) out.push_back(StripDirectives(e));
    return out;
  }
  return v;
}

ApiResult<json> MergeMap(const json& target, const json& patch);

ApiResult<json> MergeList(const std::string& field, const json& target, const json& patch) {
  json sample =
      !patch.empty() ? patch[0] : (target.is_array() && !target.empty() ? target[0] : json());
  std::string key = MergeKeyFor(field, sample);
  if (key.empty() || !target.is_array()) {
    // Atomic list: replaced, except for a "$patch: replace" wrapper (same thing).
    json out = json::array();
    for (const auto& e : patch)
      if (!(e.is_object() && e.contains("$patch"))) out.push_back(StripDirectives(e));
    return out;
  }
  json out = target;
  for (const auto& p : patch) {
    if (!p.is_object()) continue;
    std::string directive = Directive(p);
    if (directive == "replace") {
      json repl = json::array();
      for (const auto& e : patch)
        if (!(e.is_object() && e.contains("$patch"))) repl.push_back(StripDirectives(e));
      return repl;
    }
    auto k = p.find(key);
    if (k == p.end()) continue;
    auto match = std::find_if(out.begin(), out.end(), [&](const json& e) {
      return e.is_object() && e.contains(key) && e[key] == *k;
    });
    if (directive == "delete") {
      if (match != out.end()) out.erase(match);
      continue;
    }
    if (match == out.end()) {
      out.push_back(StripDirectives(p));
    } else {
      auto merged = MergeMap(*match, p);
      if (!merged.ok()) return merged.error();
      *match = std::move(merged).value();
    }
  }
  return out;
}

ApiResult<json> MergeMap(const json& target, const json& patch) {
  if (!patch.is_object()) return StripDirectives(patch);
  if (Directive(patch) == "replace") return StripDirectives(patch);
  if (Directive(patch) == "delete") return json();
  json out = target.is_object() ? target : json::object();
  if (patch.contains("$retainKeys") && patch["$retainKeys"].is_array()) {
    std::set<std::string> keep;
    for (const auto& k : patch["$retainKeys"])
      if (k.is_string()) keep.insert(k.get<std::string>());
    json kept = json::object();
    for (auto& [k, v] : out.items())
      if (keep.count(k)) kept[k] = v;
    out = std::move(kept);
  }
  for (auto& [k, v] : patch.items()) {
    if (k.rfind("$deleteFromPrimitiveList/", 0) == 0) {
      std::string field = k.substr(sizeof("$deleteFromPrimitiveList/") - 1);
      if (out.contains(field) && out[field].is_array() && v.is_array()) {
        json kept = json::array();
        for (const auto& e : out[field])
          if (std::find(v.begin(), v.end(), e) == v.end()) kept.push_back(e);
        out[field] = std::move(kept);
      }
      continue;
    }
    if (IsDirective(k)) continue;
    if (v.is_null()) {
      out.erase(k);
    } else if (v.is_object()) {
      auto merged = MergeMap(out.contains(k) ? out[k] : json(), v);
      if (!merged.ok()) return merged.error();
      if (merged.value().is_null()) {
        out.erase(k);
      } else {
        out[k] = std::move(merged).value();
      }
    } else if (v.is_array()) {
      auto merged = MergeList(k, out.contains(k) ? out[k] : json::array(), v);
      if (!merged.ok()) return merged.error();
      out[k] = std::move(merged).value();
    } else {
      out[k] = v;
    }
  }
  return out;
}

}  // namespace

ApiResult<json> ApplyStrategicMergePatch(const json& target, const json& patch) {
  if (!patch.is_object()) return ApiError::BadRequest("strategic merge patch must be an object");
  return MergeMap(target, patch);
}

}  // namespace shardwise::kubesim
