// Cluster: the apiserver's semantics on top of ObjectStore, independent of HTTP.
// It owns the type registry (built-ins plus CRD-backed types registered the moment a
// CRD is written), server-owned metadata (uid, creationTimestamp, resourceVersion,
// generation, generateName), per-kind defaults, CRD schema pruning/defaulting/
// validation, optimistic concurrency, the patch formats and server-side apply, the
// status and scale subresources, and deletion (finalizers, propagation policies).
// Asynchronous work (garbage collection, namespace teardown) is done by Controllers
// fed by the store's watch; see controller.h.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hack/kube-sim/api_error.h"
#include "hack/kube-sim/object_store.h"
#include "hack/kube-sim/resource_type.h"
#include "hack/kube-sim/selector.h"

namespace shardwise::kubesim {

using TypePtr = std::shared_ptr<const ResourceType>;

// Per-request options shared by every write.
struct WriteContext {
  std::string field_manager;  // "" = derived from the user agent
  std::string user_agent;
  std::string field_validation = "Warn";  // Strict | Warn | Ignore
  bool dry_run = false;
  bool force = false;                 // server-side apply
  std::vector<std::string> warnings;  // filled by the write
  std::string Manager() const;
};

struct ListOptions {
  Selector labels;
  Selector fields;
  long limit = 0;
  std::string continue_token;
  std::string resource_version;
  std::string resource_version_match;
};

struct DeleteOptions {
  std::string propagation = "Background";  // Background | Foreground | Orphan
  std::string precondition_uid;
  std::string precondition_rv;
  bool dry_run = false;
  // gracePeriodSeconds from the request; unset = the object's default.
  std::optional<long long> grace_period_seconds;
};

// The outcome of a write: the object and the HTTP status (200 or 201).
struct WriteResult {
  json object;
  int code = 200;
};

enum class PatchType { kMerge, kJson, kStrategic, kApply };

class Cluster {
 public:
  // `history_limit`: watch events kept for resuming watches (older ones get 410).
  explicit Cluster(size_t history_limit = 20000);
  ObjectStore& store() { return store_; }

  // Type registry.
  TypePtr FindType(const std::string& group, const std::string& version,
                   const std::string& plural) const;
  // The preferred served type for a storage collection, or null.
  TypePtr TypeForStorage(const std::string& storage_key) const;
  std::vector<TypePtr> Types() const;  // in discovery order

  ApiResult<json> Get(const ResourceType& t, const std::string& ns, const std::string& name);
  // A KindList with items in `t`'s version.
  ApiResult<json> List(const ResourceType& t, const std::string& ns, const ListOptions& opts);
  ApiResult<WriteResult> Create(const ResourceType& t, const std::string& ns, json body,
                                WriteContext& ctx);
  // `subresource` is "" or "status".
  ApiResult<WriteResult> Update(const ResourceType& t, const std::string& ns,
                                const std::string& name, json body, WriteContext& ctx,
                                const std::string& subresource = "");
  ApiResult<WriteResult> Patch(const ResourceType& t, const std::string& ns,
                               const std::string& name, PatchType type, const json& patch,
                               WriteContext& ctx, const std::string& subresource = "");
  // 200 with a Status (immediate deletion) or the object (pending finalizers).
  ApiResult<WriteResult> Delete(const ResourceType& t, const std::string& ns,
                                const std::string& name, const DeleteOptions& opts);
  ApiResult<json> DeleteCollection(const ResourceType& t, const std::string& ns,
                                   const ListOptions& opts, const DeleteOptions& del);

  // The autoscaling/v1 Scale of an object with a scale subresource.
  ApiResult<json> GetScale(const ResourceType& t, const std::string& ns, const std::string& name);
  ApiResult<WriteResult> UpdateScale(const ResourceType& t, const std::string& ns,
                                     const std::string& name, const json& scale, WriteContext& ctx);
  ApiResult<WriteResult> PatchScale(const ResourceType& t, const std::string& ns,
                                    const std::string& name, PatchType type, const json& patch,
                                    WriteContext& ctx);

  // Rewrites apiVersion/kind for `t` (storage may hold another served version).
  static json AsVersion(const ResourceType& t, json object);

  // With a kubelet, deleting a pod bound to a node is graceful: the pod gets
  // deletionTimestamp (now + grace) and stays until the kubelet has stopped its containers
  // and deletes it again with grace 0. Off (the default): pods go at once.
  void set_graceful_pod_deletion(bool on) { graceful_pod_deletion_ = on; }
  // Service ClusterIPs are PREFIX + two octets ("127.96." by default; a local cluster sets
  // its claimed AddressBlock's before serving).
  void set_service_ip_prefix(std::string prefix) { service_ip_prefix_ = std::move(prefix); }

  // Persistence: the store snapshot; Restore() re-registers CRDs.
  json Snapshot();
  void Restore(const json& snapshot);

 private:
  using Mutator = std::function<ApiResult<json>(const json* current)>;
  struct WriteSpec {
    const ResourceType* type;
    std::string ns, name;
    std::string subresource;
    bool allow_create = false;
    bool must_create = false;
    bool apply = false;    // managedFields come from the mutator
    bool decoded = false;  // the request body is the object (POST, PUT), not a patch
  };
  ApiResult<WriteResult> Write(const WriteSpec& spec, const Mutator& mutate, WriteContext& ctx);
  ApiError Admit(const WriteSpec& spec, const json* current, json& obj, WriteContext& ctx);
  void ApplyDefaults(const ResourceType& t, const json* current, json& obj);
  void AfterWrite(const ResourceType& t, const json* before, const json* after);
  void RegisterCrd(const json& crd);
  void UnregisterCrd(const json& crd);
  void CreateDefaultNamespaces();

  ObjectStore store_;
  mutable std::mutex types_mu_;
  std::vector<TypePtr> types_;
  uint32_t cluster_ip_counter_ = 10;
  std::string service_ip_prefix_ = "127.96.";
  std::atomic<bool> graceful_pod_deletion_{false};
};

std::string NewUid();
std::string NameSuffix();

}  // namespace shardwise::kubesim
