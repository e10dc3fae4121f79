// JudgeReplica: is one scraper pod (a replica of a shard) alive, and if not, why.
//
// Two signals, the faster first:
//   - the pod, from the informer: deleted (it was seen before and is gone), terminating,
//     failed, unschedulable, NotReady, or a container terminated (kill -9, OOM) → down at
//     once, without waiting for heartbeats;
//   - heartbeats (load reports): none for `heartbeat_timeout` → down (partitions, hung
//     processes, pods without status, i.e. scrapers run outside Kubernetes).
// A replica never heard from is alive for one `heartbeat_timeout` from when the operator
// started expecting it (a new pod, or any pod after an operator restart), then down.
// A shard is alive while any of its replicas is (HA replicas are judged independently).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace shardwise::pool {

struct ReplicaSignals {
  using Clock = std::chrono::system_clock;
  std::optional<nlohmann::json> pod;  // a copy from the informer; nullopt when absent
  bool pod_seen_before = false;       // the pod was in the cache earlier: absent = deleted
  std::optional<Clock::time_point> last_report;
  Clock::time_point expected_since;  // when the operator started expecting this replica
};

struct Liveness {
  bool alive = false;
  bool reporting = false;  // a report arrived within the heartbeat timeout
  std::string reason;      // CamelCase, for conditions: Reporting, AwaitingFirstReport,
                           // PodDeleted, PodTerminating, PodFailed, PodUnschedulable,
                           // ContainerTerminated, PodNotReady, NoHeartbeat, NeverReported
  std::string message;
};

Liveness JudgeReplica(const ReplicaSignals& signals, std::chrono::system_clock::time_point now,
                      std::chrono::milliseconds heartbeat_timeout);

// Why the pod says the scraper cannot be running, or "" when it does not say so.
std::string PodDownReason(const nlohmann::json& pod, std::string* message);

}  // namespace shardwise::pool
