#include "hack/kube-sim/auth/rbac.h"

#include <algorithm>

namespace shardwise::kubesim {
namespace {

constexpr char kRbac[] = "rbac.authorization.k8s.io";  // storage keys are "<group>/<plural>"

bool Has(const json& list, const std::string& value) {
  if (!list.is_array()) return false;
  for (const auto& v : list)
    if (v.is_string() && v.get<std::string>() == value) return true;
  return false;
}

bool SubjectMatches(const json& s, const UserInfo& user, const std::string& binding_ns) {
  if (!s.is_object()) return false;
  std::string kind = s.value("kind", ""), name = s.value("name", "");
  if (kind == "User") return name == user.username;
  if (kind == "Group") return user.InGroup(name);
  if (kind == "ServiceAccount") {
    std::string ns = s.value("namespace", "");
    if (ns.empty()) ns = binding_ns;
    return user.username == "system:serviceaccount:" + ns + ":" + name;
  }
  return false;
}

bool BindingMatches(const json& b, const UserInfo& user) {
  std::string ns = b.value("metadata", json::object()).value("namespace", "");
  for (const auto& s : b.value("subjects", json::array()))
    if (SubjectMatches(s, user, ns)) return true;
  return false;
}

void AppendRules(const json* role, std::vector<json>& out) {
  if (!role) return;
  const json& rules = role->value("rules", json::array());
  if (!rules.is_array()) return;
  for (const auto& r : rules) out.push_back(r);
}

std::string Key(const std::string& plural) {
  std::string key = kRbac;
  key += '/';
  key += plural;
  return key;
}

}  // namespace

bool RuleAllows(const json& rule, const Attributes& a) {
  if (!rule.is_object()) return false;
  const json& verbs = rule.value("verbs", json::array());
  if (!Has(verbs, "*") && !Has(verbs, a.verb)) return false;
  if (!a.resource_request) {
    for (const auto& u : rule.value("nonResourceURLs", json::array())) {
      if (!u.is_string()) continue;
      std::string p = u.get<std::string>();
      if (p == "*" || p == a.path) return true;
      if (!p.empty() && p.back() == '*' && a.path.rfind(p.substr(0, p.size() - 1), 0) == 0)
        return true;
    }
    return false;
  }
  const json& groups = rule.value("apiGroups", json::array());
  if (!Has(groups, "*") && !Has(groups, a.group)) return false;
  const json& resources = rule.value("resources", json::array());
  std::string combined = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  bool resource_ok = Has(resources, "*") || Has(resources, combined) ||
                     (!a.subresource.empty() && Has(resources, "*/" + a.subresource));
  if (!resource_ok) return false;
  const json& names = rule.value("resourceNames", json::array());
  if (names.is_array() && !names.empty()) return !a.name.empty() && Has(names, a.name);
  return true;
}

std::vector<json> RbacAuthorizer::RulesFor(const UserInfo& user, const std::string& ns) {
  std::vector<json> rules;
  cluster_.store().Transact([&](ObjectStore::Txn& txn) {
    for (const json* b : txn.List(Key("clusterrolebindings"), "")) {
      if (!BindingMatches(*b, user)) continue;
      const json& ref = b->value("roleRef", json::object());
      if (ref.value("kind", "") == "ClusterRole")
        AppendRules(txn.Get(Key("clusterroles"), "", ref.value("name", "")), rules);
    }
    if (!ns.empty()) {
      for (const json* b : txn.List(Key("rolebindings"), ns)) {
        if (!BindingMatches(*b, user)) continue;
        const json& ref = b->value("roleRef", json::object());
        std::string kind = ref.value("kind", ""), name = ref.value("name", "");
        if (kind == "ClusterRole") AppendRules(txn.Get(Key("clusterroles"), "", name), rules);
        if (kind == "Role") AppendRules(txn.Get(Key("roles"), ns, name), rules);
      }
    }
    return 0;
  });
  return rules;
}

Decision RbacAuthorizer::Authorize(const Attributes& a) {
  if (a.user.InGroup(kSystemMasters)) return {true, ""};
  for (const auto& rule : RulesFor(a.user, a.resource_request ? a.ns : ""))
    if (RuleAllows(rule, a)) return {true, "RBAC: allowed"};
  return {false, ""};
}

json RbacAuthorizer::RulesReview(const UserInfo& user, const std::string& ns) {
  json resource_rules = json::array(), non_resource_rules = json::array();
  std::vector<json> rules;
  if (user.InGroup(kSystemMasters)) {
    rules.push_back({{"verbs", {"*"}}, {"apiGroups", {"*"}}, {"resources", {"*"}}});
    rules.push_back({{"verbs", {"*"}}, {"nonResourceURLs", {"*"}}});
  }
  for (auto& r : RulesFor(user, ns)) rules.push_back(std::move(r));
  for (const auto& r : rules) {
    if (!r.is_object()) continue;
    if (r.contains("nonResourceURLs")) {
      non_resource_rules.push_back(
          {{"verbs", r.value("verbs", json::array())}, {"nonResourceURLs", r["nonResourceURLs"]}});
    } else {
      json rr = {{"verbs", r.value("verbs", json::array())},
                 {"apiGroups", r.value("apiGroups", json::array())},
                 {"resources", r.value("resources", json::array())}};
      if (r.contains("resourceNames")) rr["resourceNames"] = r["resourceNames"];
      resource_rules.push_back(rr);
    }
  }
  return {{"resourceRules", resource_rules},
          {"nonResourceRules", non_resource_rules},
          {"incomplete", false}};
}

ApiError Forbidden(const Attributes& a, const std::string& reason) {
  std::string msg;
  if (!a.resource_request) {
    msg =
        "forbidden: User \"" + a.user.username + "\" cannot " + a.verb + " path \"" + a.path + "\"";
    if (!reason.empty()) msg += ": " + reason;
    return ApiError(403, "Forbidden", msg, json{{"name", ""}, {"group", ""}, {"kind", ""}});
  }
  std::string resource = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  msg =
      "User \"" + a.user.username + "\" cannot " + a.verb + " resource \"" + resource +
      "\" in API group \"" + a.group + "\"" +
      (a.ns.empty() ? std::string(" at the cluster scope") : " in the namespace \"" + a.ns + "\"");
  if (!reason.empty()) msg += ": " + reason;
  std::string qualified = QualifiedResource(a.group, a.resource);
  std::string full = a.name.empty() ? qualified + " is forbidden: " + msg
                                    : qualified + " \"" + a.name + "\" is forbidden: " + msg;
  json details = {{"group", a.group}, {"kind", a.resource}};
  if (!a.name.empty()) details["name"] = a.name;
  return ApiError(403, "Forbidden", full, details);
}

}  // namespace shardwise::kubesim
