// What the workload controllers (ReplicaSet, Deployment, DaemonSet, StatefulSet,
// EndpointSlice, Endpoints, PodDisruptionBudget, HPA) share: pod state as the real
// controllers judge it, owner references, template hashes, int-or-percent values,
// ControllerRevisions and Events. Everything reads plain JSON objects.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hack/kube-sim/cluster.h"

namespace shardwise::kubesim {

// The field manager every controller writes with.
inline constexpr char kControllerManager[] = "kube-controller-manager";

// Ready=True in status.conditions.
bool PodReady(const json& pod);
// Ready for at least `min_ready_seconds` (by the Ready condition's lastTransitionTime).
bool PodAvailable(const json& pod, long min_ready_seconds, long long now_seconds);
// Seconds until a Ready pod becomes available, 0 if it already is or is not ready.
long long SecondsUntilAvailable(const json& pod, long min_ready_seconds, long long now_seconds);
bool PodTerminating(const json& pod);
// Succeeded or Failed.
bool PodTerminal(const json& pod);
// Neither terminating nor terminal: counts toward a controller's replicas.
bool PodActive(const json& pod);

// True if `obj` has a controller ownerReference with `uid`.
bool ControlledBy(const json& obj, const std::string& uid);
// A controller ownerReference (blockOwnerDeletion) to `owner` of `api_version`/`kind`.
json ControllerRef(const json& owner, const std::string& api_version, const std::string& kind);

// A metav1.LabelSelector (matchLabels and matchExpressions) in the query-parameter form
// ("a=b,c in (x,y),!d"); "" for an empty or missing one; nullopt if it is malformed.
std::optional<std::string> LabelSelectorText(const json& label_selector);
// The selector of a workload (spec.selector: matchLabels and matchExpressions) as a
// Selector; nullopt if it is missing or invalid (which selects nothing).
std::optional<Selector> WorkloadSelector(const json& label_selector);

// A collision-free short hash of `value` in the alphabet the real controllers use for
// pod-template-hash and controller-revision-hash ("5d8f7c9b4").
std::string ShortHash(const json& value, long collision_count = 0);

// Resolves an IntOrString (3 or "25%") against `total`, rounding percentages up or down.
long IntOrPercent(const json& value, long total, bool round_up, long fallback);

// Items of `plural` in `ns` (every namespace if ""), or an empty list.
std::vector<json> ListObjects(Cluster& cluster, const std::string& group, const std::string& plural,
                              const std::string& ns, const std::string& version = "v1");

// Writes a core/v1 Event about `object` (the same reason on the same object counts up).
void RecordEvent(Cluster& cluster, const json& object, const std::string& type,
                 const std::string& reason, const std::string& message,
                 const std::string& component);

// Sets condition `type` in `conditions` (an array), keeping lastTransitionTime unless the
// status changes. Returns true if anything but lastUpdateTime changed.
bool SetCondition(json& conditions, const std::string& type, const std::string& status,
                  const std::string& reason, const std::string& message,
                  bool with_update_time = false);
// The condition of `type`, or null.
const json* FindCondition(const json& conditions, const std::string& type);

}  // namespace shardwise::kubesim

namespace shardwise::kubesim {

// The apps/v1 ControllerRevisions of `owner` (a StatefulSet or DaemonSet), oldest
// revision first, and the one holding `data` (the template patch the real controllers
// store: {"spec":{"template":{...,"$patch":"replace"}}}). A missing one is created as
// <owner>-<hash> with the next revision number; an old one that matches again (a
// rollback) gets the next revision number. Labels are the owner's selector labels.
struct Revisions {
  std::vector<json> all;
  json update;  // null if it could not be written
};
Revisions SyncControllerRevisions(Cluster& cluster, const json& owner, const std::string& kind,
                                  const json& data);
// Deletes the oldest revisions beyond `limit` that are not in `keep` (names).
void TrimControllerRevisions(Cluster& cluster, const std::vector<json>& all, long limit,
                             const std::vector<std::string>& keep);
// The revision data for a pod template.
json TemplatePatch(const json& pod_template);

}  // namespace shardwise::kubesim
