#include "hack/kube-sim/discovery.h"

#include <algorithm>

#include "hack/kube-sim/openapi_schemas.h"

namespace shardwise::kubesim {
namespace {

const json kVerbs = {"create", "delete", "deletecollection", "get",
                     "list",   "patch",  "update",           "watch"};

// Groups in first-seen order, each with its versions in first-seen order.
std::vector<std::pair<std::string, std::vector<std::string>>> Groups(
    const std::vector<TypePtr>& types) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& t : types) {
    auto g =
        std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == t->group; });
    if (g == out.end()) {
      out.push_back({t->group, {}});
      g = out.end() - 1;
    }
    if (std::find(g->second.begin(), g->second.end(), t->version) == g->second.end())
      g->second.push_back(t->version);
  }
  return out;
}

json AggregatedResource(const ResourceType& t) {
  json r = {{"resource", t.plural},
            {"responseKind", {{"group", t.group}, {"version", t.version}, {"kind", t.kind}}},
            {"scope", t.namespaced ? "Namespaced" : "Cluster"},
            {"singularResource", t.singular},
            {"verbs", t.verbs.empty() ? kVerbs : json(t.verbs)}};
  if (!t.short_names.empty()) r["shortNames"] = t.short_names;
  if (!t.categories.empty()) r["categories"] = t.categories;
  json subs = json::array();
  if (t.has_status)
    subs.push_back(
        {{"subresource", "status"},
         {"responseKind", {{"group", t.group}, {"version", t.version}, {"kind", t.kind}}},
         {"verbs", {"get", "patch", "update"}}});
  if (t.has_scale)
    subs.push_back(
        {{"subresource", "scale"},
         {"responseKind", {{"group", "autoscaling"}, {"version", "v1"}, {"kind", "Scale"}}},
         {"verbs", {"get", "patch", "update"}}});
  if (!subs.empty()) r["subresources"] = subs;
  return r;
}

std::string GvPath(const std::string& group, const std::string& version) {
  return group.empty() ? "api/" + version : "apis/" + group + "/" + version;
}

}  // namespace

json VersionInfo() {
  return {{"major", "1"},
          {"minor", "32"},
          {"gitVersion", "v1.32.0-shardwise-kube-sim"},
          {"gitCommit", "0000000000000000000000000000000000000000"},
          {"gitTreeState", "clean"},
          {"buildDate", "2026-01-01T00:00:00Z"},
          {"goVersion", "go1.23.0"},
          {"compiler", "gc"},
          {"platform", "linux/amd64"}};
}

json AggregatedDiscovery(const std::vector<TypePtr>& types, bool core, const std::string& version) {
  json items = json::array();
  for (const auto& [group, versions] : Groups(types)) {
    if (core != group.empty()) continue;
    json vs = json::array();
    for (const auto& v : versions) {
      json resources = json::array();
      for (const auto& t : types)
        if (t->group == group && t->version == v) resources.push_back(AggregatedResource(*t));
      vs.push_back({{"version", v}, {"freshness", "Current"}, {"resources", resources}});
    }
    items.push_back({{"metadata", {{"name", group}}}, {"versions", vs}});
  }
  return {{"kind", "APIGroupDiscoveryList"},
          {"apiVersion", "apidiscovery.k8s.io/" + version},
          {"metadata", json::object()},
          {"items", items}};
}

json LegacyApiVersions(const std::string& server_address) {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs",
           {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}}}};
}

static json GroupEntry(const std::string& group, const std::vector<std::string>& versions) {
  json vs = json::array();
  for (const auto& v : versions) vs.push_back({{"groupVersion", group + "/" + v}, {"version", v}});
  return {{"name", group}, {"versions", vs}, {"preferredVersion", vs[0]}};
}

json LegacyGroupList(const std::vector<TypePtr>& types) {
  json groups = json::array();
  for (const auto& [group, versions] : Groups(types))
    if (!group.empty()) groups.push_back(GroupEntry(group, versions));
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

json LegacyApiGroup(const std::vector<TypePtr>& types, const std::string& group) {
  for (const auto& [g, versions] : Groups(types)) {
    if (g != group || g.empty()) continue;
    json out = GroupEntry(g, versions);
    out["kind"] = "APIGroup";
    out["apiVersion"] = "v1";
    return out;
  }
  return nullptr;
}

json LegacyResourceList(const std::vector<TypePtr>& types, const std::string& group,
                        const std::string& version) {
  json resources = json::array();
  bool found = false;
  for (const auto& t : types) {
    if (t->group != group || t->version != version) continue;
    found = true;
    json r = {{"name", t->plural},
              {"singularName", t->singular},
              {"namespaced", t->namespaced},
              {"kind", t->kind},
              {"verbs", t->verbs.empty() ? kVerbs : json(t->verbs)}};
    if (!t->short_names.empty()) r["shortNames"] = t->short_names;
    if (!t->categories.empty()) r["categories"] = t->categories;
    resources.push_back(r);
    if (t->has_status)
      resources.push_back({{"name", t->plural + "/status"},
                           {"singularName", ""},
                           {"namespaced", t->namespaced},
                           {"kind", t->kind},
                           {"verbs", {"get", "patch", "update"}}});
    if (t->has_scale)
      resources.push_back({{"name", t->plural + "/scale"},
                           {"singularName", ""},
                           {"namespaced", t->namespaced},
                           {"group", "autoscaling"},
                           {"version", "v1"},
                           {"kind", "Scale"},
                           {"verbs", {"get", "patch", "update"}}});
  }
  if (!found) return nullptr;
  return {{"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", group.empty() ? version : group + "/" + version},
          {"resources", resources}};
}

json AggregatedGroupEntry(const json& entry) {
  std::string group = entry.value("group", ""), version = entry.value("version", "");
  json resources = json::array();
  const json& list = entry.value("resources", json::array());
  if (list.is_array())
    for (const auto& r : list) {
      std::string name = r.is_object() ? r.value("name", "") : "";
      // "pods/metric" style names are not resources of their own (kubectl hides them).
      if (name.empty() || name.find('/') != std::string::npos) continue;
      resources.push_back(
          {{"resource", name},
           {"responseKind",
            {{"group", group}, {"version", version}, {"kind", r.value("kind", "")}}},
           {"scope", r.value("namespaced", false) ? "Namespaced" : "Cluster"},
           {"singularResource", r.value("singularName", "")},
           {"verbs", r.value("verbs", json::array())}});
    }
  return {
      {"metadata", {{"name", group}}},
      {"versions", {{{"version", version}, {"freshness", "Current"}, {"resources", resources}}}}};
}

json LegacyGroupEntry(const json& entry) {
  return GroupEntry(entry.value("group", ""), {entry.value("version", "")});
}

json OpenApiV3Index(const std::vector<TypePtr>& types) {
  json paths = json::object();
  for (const auto& [group, versions] : Groups(types))
    for (const auto& v : versions) {
      std::string p = GvPath(group, v);
      paths[p] = {{"serverRelativeURL", "/openapi/v3/" + p + "?hash=0"}};
    }
  return {{"paths", paths}};
}

json OpenApiV3GroupVersion(const std::vector<TypePtr>& types, const std::string& group,
                           const std::string& version) {
  json paths = json::object();
  bool found = false;
  for (const auto& t : types) {
    if (t->group != group || t->version != version) continue;
    found = true;
    std::string base = "/" + GvPath(group, version) + "/" +
                       (t->namespaced ? "namespaces/{namespace}/" : "") + t->plural + "/{name}";
    json op = {{"x-kubernetes-group-version-kind",
                {{"group", t->group}, {"version", t->version}, {"kind", t->kind}}},
               {"parameters",
                {{{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
                 {{"name", "fieldManager"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
                 {{"name", "dryRun"}, {"in", "query"}, {"schema", {{"type", "string"}}}}}},
               {"responses", {{"200", {{"description", "OK"}}}}}};
    paths[base] = {{"patch", op}};
  }
  if (!found) return nullptr;
  return {{"openapi", "3.0.0"},
          {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
          {"components", {{"schemas", OpenApiSchemas(types, group, version)}}},
          {"paths", paths}};
}

}  // namespace shardwise::kubesim
