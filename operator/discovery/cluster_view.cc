#include "operator/discovery/cluster_view.h"

#include <nlohmann/json.hpp>
#include <set>

namespace shardwise::opdiscovery {
namespace {

std::string MetaString(const nlohmann::json& object, const char* field) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto it = meta->find(field);
  return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

void ClusterView::Put(Index& index, const nlohmann::json& object) {
  index[MetaString(object, "namespace")][MetaString(object, "name")] = &object;
}

const nlohmann::json* ClusterView::Find(const Index& index, std::string_view ns,
                                        std::string_view name) {
  auto n = index.find(ns);
  if (n == index.end()) return nullptr;
  auto o = n->second.find(name);
  return o == n->second.end() ? nullptr : o->second;
}

const ClusterView::ByName& ClusterView::InNamespace(const Index& index, std::string_view ns) {
  static const ByName kEmpty;
  auto n = index.find(ns);
  return n == index.end() ? kEmpty : n->second;
}

void ClusterView::AddService(const nlohmann::json& o) { Put(services_, o); }
void ClusterView::AddEndpointSlice(const nlohmann::json& o) { Put(endpoint_slices_, o); }
void ClusterView::AddEndpoints(const nlohmann::json& o) { Put(endpoints_, o); }
void ClusterView::AddPod(const nlohmann::json& o) { Put(pods_, o); }
void ClusterView::AddSecret(const nlohmann::json& o) { Put(secrets_, o); }
void ClusterView::AddConfigMap(const nlohmann::json& o) { Put(config_maps_, o); }
void ClusterView::AddNamespace(const nlohmann::json& o) { namespaces_[MetaString(o, "name")] = &o; }

Status ClusterView::Add(const nlohmann::json& object) {
  std::string kind = object.is_object() ? object.value("kind", "") : "";
  if (kind == "Service") {
    AddService(object);
  } else if (kind == "EndpointSlice") {
    AddEndpointSlice(object);
  } else if (kind == "Endpoints") {
    AddEndpoints(object);
  } else if (kind == "Pod") {
    AddPod(object);
  } else if (kind == "Namespace") {
    AddNamespace(object);
  } else if (kind == "Secret") {
    AddSecret(object);
  } else if (kind == "ConfigMap") {
    AddConfigMap(object);
  } else {
    return Status::InvalidArgument("cluster view: unsupported kind \"" + kind + "\"");
  }
  return Status::OK();
}

const nlohmann::json* ClusterView::Service(std::string_view ns, std::string_view name) const {
  return Find(services_, ns, name);
}
const nlohmann::json* ClusterView::Pod(std::string_view ns, std::string_view name) const {
  return Find(pods_, ns, name);
}
const nlohmann::json* ClusterView::Secret(std::string_view ns, std::string_view name) const {
  return Find(secrets_, ns, name);
}
const nlohmann::json* ClusterView::ConfigMap(std::string_view ns, std::string_view name) const {
  return Find(config_maps_, ns, name);
}
const ClusterView::ByName& ClusterView::EndpointSlices(std::string_view ns) const {
  return InNamespace(endpoint_slices_, ns);
}
const ClusterView::ByName& ClusterView::Endpoints(std::string_view ns) const {
  return InNamespace(endpoints_, ns);
}
const ClusterView::ByName& ClusterView::Pods(std::string_view ns) const {
  return InNamespace(pods_, ns);
}
const ClusterView::ByName& ClusterView::Services(std::string_view ns) const {
  return InNamespace(services_, ns);
}

std::vector<std::string> ClusterView::Namespaces() const {
  std::set<std::string> all;
  for (const auto& [name, _] : namespaces_) all.insert(name);
  for (const Index* index : {&services_, &endpoint_slices_, &endpoints_, &pods_}) {
    for (const auto& [ns, _] : *index) all.insert(ns);
  }
  return {all.begin(), all.end()};
}

}  // namespace shardwise::opdiscovery
