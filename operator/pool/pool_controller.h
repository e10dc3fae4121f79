// PoolController: reconciles every ScrapePool, level-triggered and idempotent, through a
// rate-limited work queue (informer handlers only enqueue pool keys; they never block).
//
// One reconcile of pool P:
//   1. selects the ServiceMonitors/PodMonitors P's selectors pick, in the namespaces its
//      monitorNamespaceSelector picks (unset: P's own namespace);
//   2. discovers their targets (operator/discovery), reading referenced Secrets on demand;
//      an invalid monitor is skipped, reported in P's MonitorsValid condition and as a
//      Warning Event on the monitor; the others keep working;
//   3. judges every scraper pod (shard_liveness.h: pod status at once, heartbeats for
//      partitions; a shard is Lost only when all its replicas are) and assigns targets to
//      shards (operator/assign) with the series each target last reported as its weight and
//      scrape confirmations driving make-before-break handoffs and their cutovers;
//   4. publishes one ScrapePlan per shard and replica to the discovery endpoint; a draining
//      shard left with nothing gets a final empty plan and is removed only once every
//      replica reported running it (Event ShardDrained, naming the generation and when each
//      report came); a replica that is not running (its pod is gone, terminated or
//      unschedulable, or it stopped reporting), or that has not confirmed it within
//      `heartbeat_timeout` of the final plan, does not hold the scale-down up: the shard goes
//      anyway, with a Warning Event ShardRemovedUndrained saying why;
//   5. server-side-applies the owned objects (ConfigMap, headless Service, PDB, one
//      StatefulSet per replica set, one ScrapeShard per shard) when they differ from what it
//      last applied (and every `reapply` to heal drift), and deletes surplus ScrapeShards;
//   6. writes ScrapeShard and ScrapePool status only when it changed, and Events on
//      transitions; requeues itself after `resync` so heartbeat loss is noticed;
//   7. steps the pool's autoscaling (pool/autoscaling.h): in mode Operator a new shard count
//      is written through the scale subresource, which enqueues the pool again.
//
// Restarts and leader changes: the first reconcile of a pool that already has shards waits
// (at most `rebuild_wait`) for every scraper's report and rebuilds the placement from them
// (placement_rebuild.h), so no target moves and handoffs in flight continue. Until then no
// plan is served; scrapers keep scraping the plan they have.
//
// The report store admits reports only for the pods of shards the controller knows.
//
// Failover bound: a dead scraper's pod status marks its shard Lost within the informer's
// latency; a partitioned one after `heartbeat_timeout`. The next reconcile (immediate on a
// pod event, else within `resync`) reassigns its targets, the new owners' long polls get
// their plans within milliseconds, and each target is scraped at its next phase point, at
// most one interval later. So targets go unscraped for at most about one scrape interval
// after a pod-visible failure, and heartbeat_timeout + resync + one interval after a
// partition: 20 s + 5 s + 30 s = 55 s < 2 intervals at the 30 s default
// (docs/assignment.md, "Failover").
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "operator/assign/assignment.h"
#include "operator/endpoint/plan_store.h"
#include "operator/kube/client.h"
#include "operator/kube/event_recorder.h"
#include "operator/kube/store.h"
#include "operator/kube/workqueue.h"
#include "operator/pool/autoscaling.h"
#include "operator/pool/owned_objects.h"
#include "operator/pool/pool_snapshot.h"
#include "operator/pool/released_targets.h"

namespace shardwise::pool {

// The informer caches the controller reads. All must outlive the controller.
struct Caches {
  const kube::Store* pools = nullptr;
  const kube::Store* service_monitors = nullptr;
  const kube::Store* pod_monitors = nullptr;
  const kube::Store* namespaces = nullptr;
  const kube::Store* services = nullptr;
  const kube::Store* endpoint_slices = nullptr;
  const kube::Store* pods = nullptr;  // also the scraper pods' status (liveness)
  // Read for monitors' credentials and TLS material; null: read on demand (tests).
  const kube::Store* secrets = nullptr;
  const kube::Store* config_maps = nullptr;
  // HorizontalPodAutoscalers (optional): one targeting a pool in Operator mode is a conflict.
  const kube::Store* hpas = nullptr;
  const kube::Store* endpoints = nullptr;  // core/v1 Endpoints, for the Endpoints role
};

class PoolController {
 public:
  struct Options {
    OperatorSettings settings;
    std::chrono::milliseconds resync{std::chrono::seconds(5)};
    // A scraper that sent no report for this long is down (scrapers report every 5 s).
    std::chrono::milliseconds heartbeat_timeout{std::chrono::seconds(20)};
    // After a restart, how long to wait for the scrapers' reports before assigning anyway.
    std::chrono::milliseconds rebuild_wait{std::chrono::seconds(15)};
    // Owned objects are re-applied this often even when unchanged (heals manual edits).
    std::chrono::milliseconds reapply{std::chrono::minutes(10)};
    // See assign::AssignOptions::cutover_delay.
    std::chrono::milliseconds cutover_delay{std::chrono::seconds(3)};
    // The operator's CA bundle (optional): published as ConfigMap shardwise-ca in every
    // pool's namespace, for scraper pods to mount.
    std::function<std::string()> ca_bundle;
    // The clock autoscaling decisions are taken by (tests inject one).
    std::function<std::chrono::system_clock::time_point()> now = [] {
      return std::chrono::system_clock::now();
    };
    // Optional: receives each pool's state after every reconcile that assigned targets
    // (the web UI's source), and loses a pool when it is deleted.
    SnapshotStore* snapshots = nullptr;
  };

  PoolController(kube::Client& client, Caches caches, endpoint::PlanStore& plans,
                 endpoint::ReportStore& reports, kube::EventRecorder& events, Options options);
  ~PoolController();

  // Enqueues a pool ("namespace/name"), or every known pool.
  void Enqueue(const std::string& pool_key);
  void EnqueueAll();
  void Start();
  void Stop();

  // One reconcile, synchronously (the worker calls this; tests may too).
  Status Reconcile(const std::string& pool_key);

 private:
  struct PoolState {
    std::optional<assign::Assignment> assignment;
    ReleasedTargets released{std::chrono::minutes(2)};  // listed in plans: moved away recently
    std::chrono::system_clock::time_point first_reconcile{};
    std::map<int, std::chrono::system_clock::time_point> expected_since;  // per shard
    std::set<std::string> pods_seen;  // scraper pods seen in the cache (absent = deleted)
    // pod → the uid seen Ready, by this process or (status.readyPods of the pool's
    // ScrapeShards, read back once: ready_pods_read) by an earlier one.
    std::map<std::string, std::string> pods_ready;
    bool ready_pods_read = false;
    // Per (shard, replica): the plan generations published to it and when, oldest first,
    // back to the one that was current heartbeat_timeout ago (what "recent" means).
    std::map<std::pair<int, int>,
             std::deque<std::pair<uint64_t, std::chrono::system_clock::time_point>>>
        sent_generations;
    // A drained shard's final empty plan per (shard, replica): its newest generation, and
    // since when the shard has been drained (the bound on waiting for its confirmation).
    struct FinalPlan {
      uint64_t generation = 0;
      std::chrono::system_clock::time_point since{};
    };
    std::map<std::pair<int, int>, FinalPlan> final_plan;
    std::map<std::string, std::pair<nlohmann::json, std::chrono::steady_clock::time_point>>
        applied;                                 // "resource/name" → last applied object, when
    std::map<int, nlohmann::json> shard_status;  // last written ScrapeShard status
    std::map<int, std::chrono::system_clock::time_point> heartbeat_written;
    std::set<std::string> invalid_monitors;     // "Kind ns/name: message" last reported
    std::set<std::string> meta_label_warnings;  // the same, for meta labels outside the role
    std::map<int, std::string> shard_phase;     // last phase per shard, for Events
    nlohmann::json last_status;
    int last_shard_count = -1;
    PoolAutoscaling autoscaling;
  };

  void Work();
  void Forget(const std::string& pool_key);
  void Admit(const std::string& ns, const std::string& pool, int shards, int replicas);
  bool Admits(const endpoint::ShardKey& key) const;

  kube::Client& client_;
  Caches caches_;
  endpoint::PlanStore& plans_;
  endpoint::ReportStore& reports_;
  kube::EventRecorder& events_;
  Options options_;
  kube::WorkQueue queue_;
  std::mutex mu_;  // guards state_ (one worker, but tests may call Reconcile directly)
  std::map<std::string, PoolState> state_;
  // Which scraper pods may report: (namespace, pool) → (shards, replicas). Its own lock,
  // never held while calling out: the report store calls Admits under its lock.
  mutable std::mutex admission_mu_;
  std::map<std::pair<std::string, std::string>, std::pair<int, int>> admitted_;
  std::thread worker_;
};

}  // namespace shardwise::pool
