// GroupVersionResource names a REST collection ("apps/v1 deployments") and builds its URL
// paths; well-known resources the operator uses are listed below. Objects are untyped JSON
// (nlohmann::json) — the client is typed by resource, not by Go-style structs — and the
// accessors here read the metadata every component needs.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace shardwise::kube {

using Object = nlohmann::json;

struct GroupVersionResource {
  std::string group;  // "" for the core group
  std::string version;
  std::string resource;  // plural, lower case

  // "v1" or "apps/v1": an object's apiVersion.
  std::string GroupVersion() const;
  // "/api/v1/namespaces/NS/RESOURCE[/NAME[/SUBRESOURCE]]"; an empty `ns` gives the
  // cluster-scoped (or all-namespaces) form. Segments are percent-encoded.
  std::string Path(std::string_view ns, std::string_view name = "",
                   std::string_view subresource = "") const;
  // "deployments.apps" or "pods".
  std::string ToString() const;
  bool operator==(const GroupVersionResource&) const = default;
};

namespace resources {
inline const GroupVersionResource kNamespaces{"", "v1", "namespaces"};
inline const GroupVersionResource kPods{"", "v1", "pods"};
inline const GroupVersionResource kServices{"", "v1", "services"};
inline const GroupVersionResource kSecrets{"", "v1", "secrets"};
inline const GroupVersionResource kConfigMaps{"", "v1", "configmaps"};
inline const GroupVersionResource kServiceAccounts{"", "v1", "serviceaccounts"};
inline const GroupVersionResource kEvents{"", "v1", "events"};
inline const GroupVersionResource kEndpointSlices{"discovery.k8s.io", "v1", "endpointslices"};
inline const GroupVersionResource kEndpoints{"", "v1", "endpoints"};
inline const GroupVersionResource kStatefulSets{"apps", "v1", "statefulsets"};
inline const GroupVersionResource kDeployments{"apps", "v1", "deployments"};
inline const GroupVersionResource kLeases{"coordination.k8s.io", "v1", "leases"};
inline const GroupVersionResource kPodDisruptionBudgets{"policy", "v1", "poddisruptionbudgets"};
inline const GroupVersionResource kServiceMonitors{"monitoring.coreos.com", "v1",
                                                   "servicemonitors"};
inline const GroupVersionResource kPodMonitors{"monitoring.coreos.com", "v1", "podmonitors"};
inline const GroupVersionResource kScrapePools{"shardwise.io", "v1alpha1", "scrapepools"};
inline const GroupVersionResource kScrapeShards{"shardwise.io", "v1alpha1", "scrapeshards"};
}  // namespace resources

// metadata accessors; "" when absent.
std::string NameOf(const Object& object);
std::string NamespaceOf(const Object& object);
std::string ResourceVersionOf(const Object& object);
std::string UidOf(const Object& object);
// "namespace/name", or "name" for cluster-scoped objects (client-go's MetaNamespaceKey).
std::string KeyOf(const Object& object);
std::string MakeKey(std::string_view ns, std::string_view name);
// Splits a key made by MakeKey.
void SplitKey(std::string_view key, std::string* ns, std::string* name);

}  // namespace shardwise::kube
