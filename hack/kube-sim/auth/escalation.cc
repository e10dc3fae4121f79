#include "hack/kube-sim/auth/escalation.h"

#include "hack/kube-sim/patch.h"

namespace shardwise::kubesim {
namespace {

constexpr char kRbac[] = "rbac.authorization.k8s.io";

std::vector<std::string> Strings(const json& rule, const char* key, bool empty_means_any) {
  std::vector<std::string> out;
  const json& v = rule.value(key, json::array());
  if (v.is_array())
    for (const auto& s : v)
      if (s.is_string()) out.push_back(s.get<std::string>());
  if (out.empty() && empty_means_any) out.push_back("");
  return out;
}

// The first permission of `rule` that `user` does not hold in `ns`, as text; "" if none.
std::string Missing(RbacAuthorizer& authorizer, const UserInfo& user, const std::string& ns,
                    const json& rule) {
  if (!rule.is_object()) return "";
  for (const auto& verb : Strings(rule, "verbs", false)) {
    if (rule.contains("nonResourceURLs")) {
      for (const auto& url : Strings(rule, "nonResourceURLs", false)) {
        Attributes a;
        a.user = user;
        a.resource_request = false;
        a.verb = verb;
        a.path = url;
        if (!authorizer.Authorize(a).allowed)
          return "{NonResourceURLs:[\"" + url + "\"], Verbs:[\"" + verb + "\"]}";
      }
      continue;
    }
    for (const auto& group : Strings(rule, "apiGroups", false))
      for (const auto& resource : Strings(rule, "resources", false))
        for (const auto& name : Strings(rule, "resourceNames", true)) {
          Attributes a;
          a.user = user;
          a.verb = verb;
          a.group = group;
          size_t slash = resource.find('/');
          a.resource = resource.substr(0, slash);
          if (slash != std::string::npos) a.subresource = resource.substr(slash + 1);
          a.ns = ns;
          a.name = name;
          if (!authorizer.Authorize(a).allowed)
            return "{APIGroups:[\"" + group + "\"], Resources:[\"" + resource + "\"]" +
                   (name.empty() ? "" : ", ResourceNames:[\"" + name + "\"]") + ", Verbs:[\"" +
                   verb + "\"]}";
        }
  }
  return "";
}

bool May(RbacAuthorizer& authorizer, const UserInfo& user, const std::string& verb,
         const std::string& resource, const std::string& ns, const std::string& name) {
  Attributes a;
  a.user = user;
  a.verb = verb;
  a.group = kRbac;
  a.resource = resource;
  a.ns = ns;
  a.name = name;
  return authorizer.Authorize(a).allowed;
}

std::string Groups(const UserInfo& user) {
  std::string out = "[";
  for (size_t i = 0; i < user.groups.size(); ++i) out += (i ? " \"" : "\"") + user.groups[i] + "\"";
  return out + "]";
}

}  // namespace

ApiError CheckEscalation(RbacAuthorizer& authorizer, Cluster& cluster, const Attributes& request,
                         const json& body) {
  if (request.group != kRbac || !request.subresource.empty() || !body.is_object() ||
      (request.verb != "create" && request.verb != "update" && request.verb != "patch") ||
      request.user.InGroup(kSystemMasters))
    return ApiError();
  const std::string& r = request.resource;
  const std::string ns = request.ns;
  std::string name = body.value("metadata", json::object()).value("name", request.name);
  std::vector<json> rules;
  bool is_binding = r == "rolebindings" || r == "clusterrolebindings";
  if (r == "roles" || r == "clusterroles") {
    if (May(authorizer, request.user, "escalate", r, ns, name)) return ApiError();
    const json& list = body.value("rules", json::array());
    if (list.is_array()) rules.assign(list.begin(), list.end());
  } else if (is_binding) {
    const json& ref = body.value("roleRef", json::object());
    if (!ref.is_object()) return ApiError();
    std::string kind = ref.value("kind", ""), role = ref.value("name", "");
    std::string role_plural = kind == "Role" ? "roles" : "clusterroles";
    if (May(authorizer, request.user, "bind", role_plural, kind == "Role" ? ns : "", role))
      return ApiError();
    TypePtr t = cluster.FindType(kRbac, "v1", role_plural);
    if (!t) return ApiError();
    auto target = cluster.Get(*t, kind == "Role" ? ns : "", role);
    if (!target.ok()) return ApiError();  // a binding to a missing role grants nothing yet
    const json& list = target.value().value("rules", json::array());
    if (list.is_array()) rules.assign(list.begin(), list.end());
  } else {
    return ApiError();
  }
  for (const auto& rule : rules) {
    std::string missing = Missing(authorizer, request.user, ns, rule);
    if (missing.empty()) continue;
    std::string qualified = QualifiedResource(kRbac, r);
    return ApiError(403, "Forbidden",
                    qualified + " \"" + name + "\" is forbidden: user \"" + request.user.username +
                        "\" (groups=" + Groups(request.user) +
                        ") is attempting to grant RBAC permissions not currently held:\n" + missing,
                    json{{"name", name}, {"group", kRbac}, {"kind", r}});
  }
  return ApiError();
}

ApiError CheckPatchEscalation(RbacAuthorizer& authorizer, Cluster& cluster,
                              const Attributes& request, PatchType patch_type, const json& patch) {
  if (request.group != kRbac || !request.subresource.empty() || request.verb != "patch" ||
      request.user.InGroup(kSystemMasters))
    return ApiError();
  const std::string& r = request.resource;
  if (r != "roles" && r != "clusterroles" && r != "rolebindings" && r != "clusterrolebindings")
    return ApiError();
  TypePtr t = cluster.FindType(kRbac, "v1", r);
  if (!t) return ApiError();
  auto current = cluster.Get(*t, request.ns, request.name);
  json result;
  if (!current.ok()) {
    // Only an apply patch creates; anything else fails on its own with 404.
    if (patch_type != PatchType::kApply || !patch.is_object()) return ApiError();
    result = patch;
  } else {
    switch (patch_type) {
      case PatchType::kMerge:
        if (!patch.is_object()) return ApiError();  // the write itself answers 400
        result = ApplyMergePatch(current.value(), patch);
        break;
      case PatchType::kJson: {
        auto patched = ApplyJsonPatch(current.value(), patch);
        if (!patched.ok()) return ApiError();  // the write itself answers 422
        result = patched.value();
        break;
      }
      case PatchType::kStrategic: {
        auto patched = ApplyStrategicMergePatch(current.value(), patch);
        if (!patched.ok()) return ApiError();
        result = patched.value();
        break;
      }
      case PatchType::kApply:
        // rules, roleRef and subjects are atomic in RBAC objects: the applied value
        // replaces the current one, as a merge does.
        if (!patch.is_object()) return ApiError();
        result = ApplyMergePatch(current.value(), patch);
        break;
    }
  }
  if (!result.is_object()) return ApiError();
  if (!result.contains("metadata") || !result["metadata"].is_object())
    result["metadata"] = json::object();
  result["metadata"]["name"] = request.name;
  return CheckEscalation(authorizer, cluster, request, result);
}

}  // namespace shardwise::kubesim
