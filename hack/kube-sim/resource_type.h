// ResourceType: everything the simulator knows about one served resource
// (one group/version/plural): names for discovery, scope, subresources, Table
// columns and, for custom resources, the structural schema. Built-in types come
// from BuiltinTypes(); CRD-backed types are produced by CrdToTypes().
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "hack/kube-sim/api_error.h"

namespace shardwise::kubesim {

// One column of a `kubectl get` Table.
struct Column {
  std::string name;  // "Name", "Ready", ...
  std::string type;  // string | integer | number | boolean | date
  std::string format;
  std::string description;
  int priority = 0;  // > 0: only with -o wide
  // Built-in columns compute their cell in code; CRD columns use a JSONPath.
  std::function<json(const json& obj)> cell;
  std::string json_path;
};

struct ResourceType {
  std::string group;  // "" for core
  std::string version;
  std::string kind;
  std::string plural;
  std::string singular;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  bool namespaced = true;
  bool has_status = false;  // a /status subresource (spec/status split)
  bool has_scale = false;   // a /scale subresource
  std::string spec_replicas_path = ".spec.replicas";
  std::string status_replicas_path = ".status.replicas";
  std::string label_selector_path;  // "" = none; ".spec.selector" for built-ins is special
  bool builtin = true;
  // Supports strategic-merge-patch (built-ins only).
  bool strategic = true;
  std::vector<Column> columns;  // empty: Name + Age
  // Discovery verbs; empty = the full set. Review types (answered by auth/) are
  // {"create"}: they are never stored.
  std::vector<std::string> verbs;
  json schema;  // CRD openAPIV3Schema, null when none
  // Set when another group's collection holds the objects (events.k8s.io Events live
  // with core Events so that `kubectl describe` sees them).
  std::string storage_override;
  // The storage collection shared by every version of a resource: "<group>/<plural>".
  std::string StorageKey() const {
    return storage_override.empty() ? group + "/" + plural : storage_override;
  }
  std::string GroupVersion() const { return group.empty() ? version : group + "/" + version; }
  std::string ListKind() const { return kind + "List"; }
};

// The built-in kinds the simulator serves, every served version, preferred first.
const std::vector<ResourceType>& BuiltinTypes();

// Every served version of a CRD object (apiextensions.k8s.io/v1), or a 422/400.
ApiResult<std::vector<ResourceType>> CrdToTypes(const json& crd);

// "3m20s", "5h", "2d": kubectl's human duration for an age in seconds.
std::string HumanDuration(long long seconds);

}  // namespace shardwise::kubesim
