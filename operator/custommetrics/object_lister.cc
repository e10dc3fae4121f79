#include "operator/custommetrics/object_lister.h"

namespace shardwise::custommetrics {
namespace {

using nlohmann::json;

std::map<std::string, std::string> LabelsOf(const json& obj) {
  std::map<std::string, std::string> out;
  const json& labels = obj.value("metadata", json::object()).value("labels", json::object());
  if (!labels.is_object()) return out;
  for (const auto& [k, v] : labels.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

std::optional<std::string> VersionOf(const std::string& group) {
  for (const char* g : {"", "apps", "batch", "networking.k8s.io", "policy", "autoscaling"}) {
    if (group == g) return std::string("v1");
  }
  return std::nullopt;
}

}  // namespace

ObjectLister MakeObjectLister(kube::Client* client, ListerStores stores) {
  return [client, stores](
             const GroupResource& gr, const std::string& ns,
             const opdiscovery::LabelSelector& selector) -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    const kube::Store* store = nullptr;
    if (gr.group.empty()) {
      if (gr.resource == "pods") store = stores.pods;
      if (gr.resource == "services") store = stores.services;
      if (gr.resource == "namespaces") store = stores.namespaces;
    }
    if (store) {
      for (const auto& o : store->List()) {
        if (kube::NamespaceOf(*o) != ns || !selector.Matches(LabelsOf(*o))) continue;
        out.push_back(kube::NameOf(*o));
      }
      return out;
    }
    auto version = VersionOf(gr.group);
    if (!version) {
      return Status::InvalidArgument("cannot list " + gr.ToString() +
                                     " for a request on every object (\"*\"); ask by name");
    }
    auto list = client->List({gr.group, *version, gr.resource}, ns);
    if (!list.ok()) return list.status().WithContext("list " + gr.ToString());
    for (const auto& o : list->items) {
      if (selector.Matches(LabelsOf(o))) out.push_back(kube::NameOf(o));
    }
    return out;
  };
}

}  // namespace shardwise::custommetrics
