// ReconcileController: the shape every workload controller here shares. Events mark
// objects of the primary collection dirty (directly, through an owner reference, or
// every primary of a namespace); Resync() reconciles the dirty ones, and every
// `full_resync` all of them, so time-driven work (minReadySeconds, HPA sync periods,
// progress deadlines) happens without events. Reconcile() must be level-triggered and
// idempotent: it reads the current state and writes only what differs.
#pragma once

#include <chrono>
#include <set>
#include <string>
#include <utility>

#include "hack/kube-sim/controller.h"

namespace shardwise::kubesim {

class ReconcileController : public Controller {
 public:
  // `primary`: the storage collection, e.g. "apps/deployments".
  ReconcileController(Cluster& cluster, std::string primary,
                      std::chrono::milliseconds full_resync = std::chrono::seconds(1));

  void OnEvent(const WatchEvent& e) final;
  void Resync() final;

 protected:
  // Events of other collections; mark what they affect.
  virtual void Related(const WatchEvent& e) { (void)e; }
  virtual void Reconcile(const std::string& ns, const std::string& name) = 0;

  void Mark(const std::string& ns, const std::string& name) { dirty_.insert({ns, name}); }
  // Marks the controller owner of `obj` if it is of `kind`.
  void MarkOwner(const json& obj, const std::string& kind);
  // Marks every primary object in `ns` at the next Resync().
  void MarkNamespace(const std::string& ns) { dirty_namespaces_.insert(ns); }

  Cluster& cluster_;

 private:
  void MarkAll(const std::string& ns, bool all_namespaces);

  const std::string primary_;
  const std::chrono::milliseconds full_resync_;
  std::chrono::steady_clock::time_point last_full_{};
  std::set<std::pair<std::string, std::string>> dirty_;
  std::set<std::string> dirty_namespaces_;
};

}  // namespace shardwise::kubesim
