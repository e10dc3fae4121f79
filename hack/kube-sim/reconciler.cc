#include "hack/kube-sim/reconciler.h"

namespace shardwise::kubesim {

ReconcileController::ReconcileController(Cluster& cluster, std::string primary,
                                         std::chrono::milliseconds full_resync)
    : cluster_(cluster), primary_(std::move(primary)), full_resync_(full_resync) {}

void ReconcileController::OnEvent(const WatchEvent& e) {
  if (e.collection == primary_) {
    const json& md = e.object.value("metadata", json::object());
    Mark(md.value("namespace", ""), md.value("name", ""));
    return;
  }
  Related(e);
}

void ReconcileController::MarkOwner(const json& obj, const std::string& kind) {
  const json& md = obj.value("metadata", json::object());
  for (const auto& ref : md.value("ownerReferences", json::array()))
    if (ref.value("kind", "") == kind && ref.value("controller", false))
      Mark(md.value("namespace", ""), ref.value("name", ""));
}

void ReconcileController::MarkAll(const std::string& ns, bool all_namespaces) {
  cluster_.store().Transact([&](ObjectStore::Txn& txn) {
    for (const json* o : txn.List(primary_, all_namespaces ? "" : ns)) {
      const json& md = (*o)["metadata"];
      dirty_.insert({md.value("namespace", ""), md.value("name", "")});
    }
    return 0;
  });
}

void ReconcileController::Resync() {
  auto now = std::chrono::steady_clock::now();
  if (now - last_full_ >= full_resync_) {
    last_full_ = now;
    MarkAll("", true);
  }
  for (const auto& ns : dirty_namespaces_) MarkAll(ns, false);
  dirty_namespaces_.clear();
  auto dirty = std::move(dirty_);
  dirty_.clear();
  for (const auto& [ns, name] : dirty) Reconcile(ns, name);
}

}  // namespace shardwise::kubesim
