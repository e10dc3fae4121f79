// Controller: asynchronous cluster behaviour (garbage collection, namespace teardown,
// the workload, endpoint, disruption-budget and HPA controllers) driven by the store's watch.
// ControllerManager runs every controller on one thread: each store event goes to
// OnEvent(), and Resync() runs after each batch of events and at least every 200 ms so
// controllers can retry pending work. Controllers write only through Cluster.
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "hack/kube-sim/cluster.h"

namespace shardwise::kubesim {

class Controller {
 public:
  virtual ~Controller() = default;
  virtual void OnEvent(const WatchEvent& event) = 0;
  virtual void Resync() {}
};

class ControllerManager {
 public:
  explicit ControllerManager(Cluster& cluster) : cluster_(cluster) {}
  ~ControllerManager() { Stop(); }
  void Add(std::unique_ptr<Controller> controller) {
    controllers_.push_back(std::move(controller));
  }
  void Start();
  void Stop();

 private:
  void Run();
  Cluster& cluster_;
  std::vector<std::unique_ptr<Controller>> controllers_;
  std::shared_ptr<Watcher> watcher_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Deletes dependents whose owners are all gone, and completes Foreground and Orphan
// deletions (the foregroundDeletion and orphan finalizers).
std::unique_ptr<Controller> NewGarbageCollector(Cluster& cluster);
// Empties a Terminating namespace, then removes it. Waits `delay_ms` after the namespace
// turned Terminating, as the real controller's queue does, so a `kubectl delete -f` that
// lists the namespace first still finds the objects inside it.
std::unique_ptr<Controller> NewNamespaceController(Cluster& cluster, int delay_ms);
// The workload controllers (see each *_controller.cc for its contract).
std::unique_ptr<Controller> NewStatefulSetController(Cluster& cluster);
std::unique_ptr<Controller> NewReplicaSetController(Cluster& cluster);
std::unique_ptr<Controller> NewDeploymentController(Cluster& cluster);
std::unique_ptr<Controller> NewDaemonSetController(Cluster& cluster);
std::unique_ptr<Controller> NewEndpointSliceController(Cluster& cluster);
std::unique_ptr<Controller> NewEndpointsController(Cluster& cluster);
std::unique_ptr<Controller> NewPdbController(Cluster& cluster);

}  // namespace shardwise::kubesim
