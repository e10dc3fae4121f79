// JudgeReplica: is one scraper pod (a replica of a shard) alive, and if not, why.
// JudgeShard: the shard from its replicas. The pool controller uses this one judgement for
// both the assignment (a shard that is not alive is Lost: its targets move without a
// handoff) and the ScrapeShard's status, so `kubectl get scrapeshards` shows what the
// assigner does.
//
// Two signals, the faster first:
//   - the pod, from the informer: deleted (it was seen before and is gone), terminating,
//     failed, unschedulable, a container terminated (kill -9, OOM), or NotReady after having
//     been Ready → down at once, without waiting for heartbeats;
//   - heartbeats (load reports): none for `heartbeat_timeout` → down (partitions, hung
//     processes, pods without status, i.e. scrapers run outside Kubernetes).
// A pod that has not become Ready yet is starting: the kubelet probes readiness every
// periodSeconds while the scraper already runs its plan. It is alive while its scraper
// reports running a recent plan (targets then leave it only by handoffs), and until then it
// is judged like any replica never heard from.
// A replica never heard from is alive for one `heartbeat_timeout` from when the operator
// started expecting it (a new pod, or any pod after an operator restart), then down.
// A shard is alive while any of its replicas is (HA replicas are judged independently).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace shardwise::pool {

struct ReplicaSignals {
  using Clock = std::chrono::system_clock;
  std::optional<nlohmann::json> pod;  // a copy from the informer; nullopt when absent
  bool pod_seen_before = false;       // the pod was in the cache earlier: absent = deleted
  std::optional<Clock::time_point> last_report;
  Clock::time_point expected_since;  // when the operator started expecting this replica
  // The operator saw this pod (this uid) Ready, in this process or (read back from the
  // ScrapeShard's status.readyPods) in an earlier one. A NotReady pod that never was is
  // still starting.
  bool pod_was_ready = false;
  uint64_t reported_generation = 0;  // the plan generation the newest report runs (0: none)
  // The plan generation this replica was sent heartbeat_timeout ago: reports running it or a
  // newer one are recent. 0 when the operator knows no such generation yet (it published to
  // the replica for less than the timeout): any plan counts.
  uint64_t recent_generation = 0;
};

struct Liveness {
  bool alive = false;
  bool reporting = false;  // a report arrived within the heartbeat timeout
  std::string
      reason;  // CamelCase, for conditions: Reporting, PodStarting,
               // AwaitingFirstReport, PodDeleted, PodTerminating, PodFailed, PodUnschedulable,
               // ContainerTerminated, PodNotReady, NoHeartbeat, NeverReported
  std::string message;
};

Liveness JudgeReplica(const ReplicaSignals& signals, std::chrono::system_clock::time_point now,
                      std::chrono::milliseconds heartbeat_timeout);

struct ShardLiveness {
  bool alive = false;      // some replica is alive: the shard keeps and takes targets
  bool reporting = false;  // some live replica reports: it has load figures, Ready=True
  std::string reason;      // the first replica that is down, else the first that is starting,
  std::string message;     // else Reporting / AwaitingFirstReport ("pod: why" in message)
};
ShardLiveness JudgeShard(const std::vector<Liveness>& replicas,
                         const std::vector<std::string>& pod_names);

// Why the pod says the scraper cannot be running, or "" when it does not say so (NotReady
// included: the caller decides whether a NotReady pod is starting, from pod_was_ready).
std::string PodDownReason(const nlohmann::json& pod, std::string* message);

// The memory of which pods were Ready, as a ScrapeShard's status keeps it so that it
// survives an operator restart: status.readyPods = [{name, uid}] for the shard's pods in
// `ready` (pod name -> uid seen Ready). The pods are the shard's, in `pod_names` order.
nlohmann::json ReadyPodsStatus(const std::map<std::string, std::string>& ready,
                               const std::vector<std::string>& pod_names);
// Read back from a ScrapeShard object into `ready` (entries already there win: this
// process saw them). Entries that are not {name: string, uid: string} are skipped.
void ReadReadyPods(const nlohmann::json& scrape_shard, std::map<std::string, std::string>* ready);

// Its Ready condition is True (a pod without conditions yet is not).
bool PodIsReady(const nlohmann::json& pod);

// metadata.uid, or "" (malformed objects included).
std::string PodUid(const nlohmann::json& pod);

}  // namespace shardwise::pool
