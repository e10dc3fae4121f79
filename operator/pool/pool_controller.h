// PoolController: reconciles every ScrapePool, level-triggered and idempotent, through a
// rate-limited work queue (informer handlers only enqueue pool keys; they never block).
//
// One reconcile of pool P:
//   1. selects the ServiceMonitors/PodMonitors P's selectors pick, in the namespaces its
//      monitorNamespaceSelector picks (unset: P's own namespace);
//   2. discovers their targets (operator/discovery), reading referenced Secrets on demand;
//      an invalid monitor is skipped, reported in P's MonitorsValid condition and as a
//      Warning Event on the monitor; the others keep working;
//   3. assigns targets to shards (operator/assign) with the series each target last reported
//      as its weight, heartbeats deciding which shards are lost, and scrape confirmations
//      completing make-before-break handoffs;
//   4. publishes one ScrapePlan per shard and replica to the discovery endpoint;
//   5. server-side-applies the owned objects (ConfigMap, headless Service, PDB, one
//      StatefulSet per replica set, one ScrapeShard per shard) and deletes surplus ones;
//   6. writes ScrapeShard and ScrapePool status (only when it changed) and Events on
//      transitions; requeues itself after `resync` so heartbeat loss is noticed.
#pragma once

#include <chrono>
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
#include "operator/pool/owned_objects.h"

namespace shardwise::pool {

// The informer caches the controller reads. All must outlive the controller.
struct Caches {
  const kube::Store* pools = nullptr;
  const kube::Store* service_monitors = nullptr;
  const kube::Store* pod_monitors = nullptr;
  const kube::Store* namespaces = nullptr;
  const kube::Store* services = nullptr;
  const kube::Store* endpoint_slices = nullptr;
  const kube::Store* pods = nullptr;
};

class PoolController {
 public:
  struct Options {
    OperatorSettings settings;
    std::chrono::milliseconds resync{std::chrono::seconds(10)};
    // A shard whose scrapers sent no report for this long is Lost.
    std::chrono::milliseconds heartbeat_timeout{std::chrono::seconds(45)};
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
    std::set<std::string> invalid_monitors;  // "Kind ns/name: message" last reported
    std::map<int, std::string> shard_phase;  // last phase per shard, for Events
    nlohmann::json last_status;
    int last_shard_count = -1;
  };

  void Work();
  void Forget(const std::string& pool_key);

  kube::Client& client_;
  Caches caches_;
  endpoint::PlanStore& plans_;
  endpoint::ReportStore& reports_;
  kube::EventRecorder& events_;
  Options options_;
  kube::WorkQueue queue_;
  std::mutex mu_;  // guards state_ (one worker, but tests may call Reconcile directly)
  std::map<std::string, PoolState> state_;
  std::thread worker_;
};

}  // namespace shardwise::pool
