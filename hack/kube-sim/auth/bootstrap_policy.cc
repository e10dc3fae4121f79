#include "hack/kube-sim/auth/bootstrap_policy.h"

namespace shardwise::kubesim {
namespace {

const json kReadVerbs = {"get", "list", "watch"};
const json kWriteVerbs = {"create", "delete", "deletecollection", "patch", "update"};

json Meta(const std::string& name, json labels = json::object()) {
  labels["kubernetes.io/bootstrapping"] = "rbac-defaults";
  return {{"name", name},
          {"labels", labels},
          {"annotations", {{"rbac.authorization.kubernetes.io/autoupdate", "true"}}}};
}

json Rule(json verbs, json groups, json resources) {
  return {{"verbs", std::move(verbs)},
          {"apiGroups", std::move(groups)},
          {"resources", std::move(resources)}};
}

json ClusterRole(const std::string& name, json rules, json labels = json::object()) {
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "ClusterRole"},
          {"metadata", Meta(name, std::move(labels))},
          {"rules", std::move(rules)}};
}

json Aggregated(const std::string& name, const std::string& selector_label, json labels) {
  json role = ClusterRole(name, json::array(), std::move(labels));
  role["aggregationRule"] = {
      {"clusterRoleSelectors", {{{"matchLabels", {{selector_label, "true"}}}}}}};
  return role;
}

json Binding(const std::string& name, const std::string& role, json subjects) {
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "ClusterRoleBinding"},
          {"metadata", Meta(name)},
          {"roleRef",
           {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", role}}},
          {"subjects", std::move(subjects)}};
}

json Group(const std::string& name) {
  return {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Group"}, {"name", name}};
}

std::vector<std::pair<std::string, json>> Policy() {
  const json view_core = {"pods",
                          "pods/log",
                          "pods/status",
                          "services",
                          "endpoints",
                          "configmaps",
                          "serviceaccounts",
                          "persistentvolumeclaims",
                          "events",
                          "limitranges",
                          "resourcequotas",
                          "replicationcontrollers",
                          "replicationcontrollers/scale",
                          "services/status",
                          "namespaces/status",
                          "persistentvolumeclaims/status",
                          "namespaces",
                          "bindings"};
  const json apps = {"deployments",       "deployments/scale",  "deployments/status",
                     "statefulsets",      "statefulsets/scale", "statefulsets/status",
                     "daemonsets",        "daemonsets/status",  "replicasets",
                     "replicasets/scale", "replicasets/status", "controllerrevisions"};
  json view_rules = {
      Rule(kReadVerbs, {""}, view_core),
      Rule(kReadVerbs, {"apps"}, apps),
      Rule(kReadVerbs, {"autoscaling"},
           {"horizontalpodautoscalers", "horizontalpodautoscalers/status"}),
      Rule(kReadVerbs, {"batch"}, {"jobs", "jobs/status", "cronjobs", "cronjobs/status"}),
      Rule(kReadVerbs, {"policy"}, {"poddisruptionbudgets", "poddisruptionbudgets/status"}),
      Rule(kReadVerbs, {"discovery.k8s.io"}, {"endpointslices"}),
      Rule(kReadVerbs, {"networking.k8s.io"}, {"ingresses", "ingresses/status", "networkpolicies"}),
      Rule(kReadVerbs, {"coordination.k8s.io"}, {"leases"})};
  json edit_core = {"pods",
                    "pods/attach",
                    "pods/exec",
                    "pods/portforward",
                    "pods/proxy",
                    "pods/eviction",
                    "services",
                    "services/proxy",
                    "endpoints",
                    "configmaps",
                    "secrets",
                    "serviceaccounts",
                    "persistentvolumeclaims",
                    "replicationcontrollers",
                    "replicationcontrollers/scale"};
  json edit_rules = {
      Rule(kWriteVerbs, {""}, edit_core),
      Rule(kReadVerbs, {""},
           {"secrets", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy",
            "services/proxy"}),
      Rule({"create"}, {""}, {"serviceaccounts/token"}),
      Rule({"impersonate"}, {""}, {"serviceaccounts"}),
      Rule(kWriteVerbs, {"apps"},
           {"deployments", "deployments/scale", "deployments/rollback", "statefulsets",
            "statefulsets/scale", "daemonsets", "replicasets", "replicasets/scale"}),
      Rule(kWriteVerbs, {"autoscaling"}, {"horizontalpodautoscalers"}),
      Rule(kWriteVerbs, {"batch"}, {"jobs", "cronjobs"}),
      Rule(kWriteVerbs, {"policy"}, {"poddisruptionbudgets"}),
      Rule(kWriteVerbs, {"discovery.k8s.io"}, {"endpointslices"}),
      Rule(kWriteVerbs, {"networking.k8s.io"}, {"ingresses", "networkpolicies"}),
      Rule(kWriteVerbs, {"coordination.k8s.io"}, {"leases"})};
  json admin_rules = {
      Rule({"create"}, {"authorization.k8s.io"}, {"localsubjectaccessreviews"}),
      Rule({"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"},
           {"rbac.authorization.k8s.io"}, {"rolebindings", "roles"})};

  std::vector<std::pair<std::string, json>> out;
  auto role = [&](json r) { out.emplace_back("clusterroles", std::move(r)); };
  auto bind = [&](json b) { out.emplace_back("clusterrolebindings", std::move(b)); };
  role(ClusterRole("cluster-admin",
                   {Rule({"*"}, {"*"}, {"*"}), {{"verbs", {"*"}}, {"nonResourceURLs", {"*"}}}}));
  role(ClusterRole("system:discovery",
                   {{{"verbs", {"get"}},
                     {"nonResourceURLs",
                      {"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
                       "/openapi/*", "/readyz", "/version", "/version/"}}}}));
  role(ClusterRole(
      "system:public-info-viewer",
      {{{"verbs", {"get"}},
        {"nonResourceURLs", {"/healthz", "/livez", "/readyz", "/version", "/version/"}}}}));
  role(ClusterRole("system:basic-user",
                   {Rule({"create"}, {"authorization.k8s.io"},
                         {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}),
                    Rule({"create"}, {"authentication.k8s.io"}, {"selfsubjectreviews"})}));
  role(ClusterRole("system:auth-delegator",
                   {Rule({"create"}, {"authentication.k8s.io"}, {"tokenreviews"}),
                    Rule({"create"}, {"authorization.k8s.io"}, {"subjectaccessreviews"})}));
  role(Aggregated("admin", "rbac.authorization.k8s.io/aggregate-to-admin", json::object()));
  role(Aggregated("edit", "rbac.authorization.k8s.io/aggregate-to-edit",
                  {{"rbac.authorization.k8s.io/aggregate-to-admin", "true"}}));
  role(Aggregated("view", "rbac.authorization.k8s.io/aggregate-to-view",
                  {{"rbac.authorization.k8s.io/aggregate-to-edit", "true"}}));
  role(ClusterRole("system:aggregate-to-admin", admin_rules,
                   {{"rbac.authorization.k8s.io/aggregate-to-admin", "true"}}));
  role(ClusterRole("system:aggregate-to-edit", edit_rules,
                   {{"rbac.authorization.k8s.io/aggregate-to-edit", "true"}}));
  role(ClusterRole("system:aggregate-to-view", view_rules,
                   {{"rbac.authorization.k8s.io/aggregate-to-view", "true"}}));
  // The one namespaced bootstrap Role extension API servers bind to read the front-proxy CA.
  out.emplace_back("roles", json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                                 {"kind", "Role"},
                                 {"metadata", Meta("extension-apiserver-authentication-reader")},
                                 {"rules",
                                  {{{"verbs", kReadVerbs},
                                    {"apiGroups", {""}},
                                    {"resources", {"configmaps"}},
                                    {"resourceNames", {"extension-apiserver-authentication"}}}}}});
  out.back().second["metadata"]["namespace"] = "kube-system";
  bind(Binding("cluster-admin", "cluster-admin", {Group("system:masters")}));
  bind(Binding("system:discovery", "system:discovery", {Group("system:authenticated")}));
  bind(Binding("system:basic-user", "system:basic-user", {Group("system:authenticated")}));
  bind(Binding("system:public-info-viewer", "system:public-info-viewer",
               {Group("system:authenticated"), Group("system:unauthenticated")}));
  return out;
}

}  // namespace

void EnsureBootstrapPolicy(Cluster& cluster) {
  for (auto& [plural, obj] : Policy()) {
    TypePtr t = cluster.FindType("rbac.authorization.k8s.io", "v1", plural);
    if (!t) continue;
    std::string name = obj["metadata"]["name"];
    std::string ns = obj["metadata"].value("namespace", "");
    if (cluster.Get(*t, ns, name).ok()) continue;
    WriteContext ctx;
    ctx.field_manager = "kube-apiserver";
    cluster.Create(*t, ns, obj, ctx);
  }
}

}  // namespace shardwise::kubesim
