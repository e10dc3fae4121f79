#include "operator/kube/resource.h"

#include "common/http/message.h"

namespace shardwise::kube {
namespace {

std::string MetadataField(const Object& object, const char* field) {
  if (!object.is_object()) return "";
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  const auto value = metadata->find(field);
  if (value == metadata->end() || !value->is_string()) return "";
  return value->get<std::string>();
}

}  // namespace

std::string GroupVersionResource::GroupVersion() const {
  return group.empty() ? version : group + "/" + version;
}

std::string GroupVersionResource::Path(std::string_view ns, std::string_view name,
                                       std::string_view subresource) const {
  std::string path = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (!ns.empty()) path += "/namespaces/" + http::PercentEncode(ns);
  path += "/" + resource;
  if (!name.empty()) path += "/" + http::PercentEncode(name);
  if (!subresource.empty()) path += "/" + std::string(subresource);
  return path;
}

std::string GroupVersionResource::ToString() const {
  return group.empty() ? resource : resource + "." + group;
}

std::string NameOf(const Object& object) { return MetadataField(object, "name"); }
std::string NamespaceOf(const Object& object) { return MetadataField(object, "namespace"); }
std::string ResourceVersionOf(const Object& object) {
  return MetadataField(object, "resourceVersion");
}
std::string UidOf(const Object& object) { return MetadataField(object, "uid"); }

std::string MakeKey(std::string_view ns, std::string_view name) {
  if (ns.empty()) return std::string(name);
  std::string key(ns);
  key += '/';
  key += name;
  return key;
}

std::string KeyOf(const Object& object) { return MakeKey(NamespaceOf(object), NameOf(object)); }

void SplitKey(std::string_view key, std::string* ns, std::string* name) {
  const auto slash = key.find('/');
  if (slash == std::string_view::npos) {
    ns->clear();
    *name = std::string(key);
  } else {
    *ns = std::string(key.substr(0, slash));
    *name = std::string(key.substr(slash + 1));
  }
}

}  // namespace shardwise::kube
