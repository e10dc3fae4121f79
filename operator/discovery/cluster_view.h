// ClusterView: a read-only index over the Kubernetes objects target discovery works from
// (Services, EndpointSlices, Endpoints, Pods, Namespaces, Secrets, ConfigMaps), given as the JSON
// the API server returns. It does not own the objects: the caller (an informer cache, a test
// fixture) keeps them alive and unchanged while the view is used. Iteration is ordered by
// namespace then name, so discovery output is deterministic.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/status.h"

namespace shardwise::opdiscovery {

class ClusterView {
 public:
  using ByName = std::map<std::string, const nlohmann::json*, std::less<>>;

  // Typed adds: list items carry no "kind", so the caller says what each object is.
  void AddService(const nlohmann::json& object);
  void AddEndpointSlice(const nlohmann::json& object);
  void AddEndpoints(const nlohmann::json& object);
  void AddPod(const nlohmann::json& object);
  void AddNamespace(const nlohmann::json& object);
  void AddSecret(const nlohmann::json& object);
  void AddConfigMap(const nlohmann::json& object);
  // Dispatches on the object's "kind"; an unknown kind is an InvalidArgument.
  Status Add(const nlohmann::json& object);

  const nlohmann::json* Service(std::string_view ns, std::string_view name) const;
  const nlohmann::json* Pod(std::string_view ns, std::string_view name) const;
  const nlohmann::json* Secret(std::string_view ns, std::string_view name) const;
  const nlohmann::json* ConfigMap(std::string_view ns, std::string_view name) const;
  // Objects of one namespace, by name; empty when none.
  const ByName& EndpointSlices(std::string_view ns) const;
  const ByName& Endpoints(std::string_view ns) const;
  const ByName& Pods(std::string_view ns) const;
  const ByName& Services(std::string_view ns) const;
  // Every namespace that holds an object or was added as a Namespace, sorted.
  std::vector<std::string> Namespaces() const;

 private:
  using Index = std::map<std::string, ByName, std::less<>>;  // namespace -> name -> object
  static void Put(Index& index, const nlohmann::json& object);
  static const nlohmann::json* Find(const Index& index, std::string_view ns, std::string_view name);
  static const ByName& InNamespace(const Index& index, std::string_view ns);

  Index services_, endpoint_slices_, endpoints_, pods_, secrets_, config_maps_;
  std::map<std::string, const nlohmann::json*, std::less<>> namespaces_;
};

}  // namespace shardwise::opdiscovery
