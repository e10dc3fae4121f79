// The namespace controller: empties Terminating namespaces, then removes them.
#include <chrono>
#include <map>

#include "hack/kube-sim/controller.h"

namespace shardwise::kubesim {
namespace {

class NamespaceController : public Controller {
 public:
  NamespaceController(Cluster& cluster, int delay_ms) : cluster_(cluster), delay_ms_(delay_ms) {}

  void OnEvent(const WatchEvent& e) override {
    if (e.collection != "/namespaces" || e.type == "DELETED") return;
    const json& md = e.object.value("metadata", json::object());
    if (md.contains("deletionTimestamp") && !terminating_.count(md.value("name", "")))
      terminating_[md.value("name", "")] = std::chrono::steady_clock::now();
  }

  void Resync() override {
    auto now = std::chrono::steady_clock::now();
    if (!initial_scan_done_) {
      // Namespaces already Terminating when the controller starts (restored state).
      initial_scan_done_ = true;
      cluster_.store().Transact([&](ObjectStore::Txn& txn) {
        for (const json* nso : txn.List("/namespaces", ""))
          if ((*nso)["metadata"].contains("deletionTimestamp"))
            terminating_[(*nso)["metadata"].value("name", "")] = now;
        return 0;
      });
    }
    for (auto it = terminating_.begin(); it != terminating_.end();) {
      bool done = now - it->second >= std::chrono::milliseconds(delay_ms_) && Drain(it->first);
      it = done ? terminating_.erase(it) : std::next(it);
    }
  }

 private:
  // Deletes what is left in `ns`; true once the namespace itself is gone.
  bool Drain(const std::string& ns) {
    std::vector<std::pair<std::string, std::string>> objects;  // collection, name
    cluster_.store().Transact([&](ObjectStore::Txn& txn) {
      for (const auto& c : txn.Collections()) {
        if (c == "/namespaces") continue;
        for (const json* o : txn.List(c, ns))
          objects.emplace_back(c, (*o)["metadata"].value("name", ""));
      }
      return 0;
    });
    bool left = false;
    for (const auto& [collection, name] : objects) {
      TypePtr t = cluster_.TypeForStorage(collection);
      if (!t) continue;
      cluster_.Delete(*t, ns, name, DeleteOptions{});
      left = left || cluster_.Get(*t, ns, name).ok();
    }
    if (left) return false;
    // Contents gone: clear spec.finalizers and remove the namespace.
    return cluster_.store().Transact([&](ObjectStore::Txn& txn) {
      const json* nso = txn.Get("/namespaces", "", ns);
      if (!nso) return true;
      if (nso->value("metadata", json::object()).contains("finalizers") &&
          !(*nso)["metadata"]["finalizers"].empty())
        return false;
      txn.Remove("/namespaces", "", ns);
      return true;
    });
  }

  Cluster& cluster_;
  const int delay_ms_;
  bool initial_scan_done_ = false;
  std::map<std::string, std::chrono::steady_clock::time_point> terminating_;
};

}  // namespace

std::unique_ptr<Controller> NewNamespaceController(Cluster& cluster, int delay_ms) {
  return std::make_unique<NamespaceController>(cluster, delay_ms);
}

}  // namespace shardwise::kubesim
