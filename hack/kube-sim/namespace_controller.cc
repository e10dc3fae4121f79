// The namespace controller: empties Terminating namespaces, then removes them.
#include <chrono>
#include <cstdio>
#include <map>

#include "hack/kube-sim/controller.h"
#include "hack/kube-sim/time_util.h"

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
  // Deletes what is left in `ns`; true once the namespace itself is gone. While content
  // or finalizers remain, the namespace's conditions say what (as the real namespace
  // controller reports them); with other spec.finalizers than "kubernetes", or
  // metadata.finalizers, it stays Terminating until those are removed.
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
    std::map<std::string, int> remaining;   // "resource.group" → count
    std::map<std::string, int> finalizers;  // finalizer → count
    for (const auto& [collection, name] : objects) {
      TypePtr t = cluster_.TypeForStorage(collection);
      if (!t) continue;
      cluster_.Delete(*t, ns, name, DeleteOptions{});
      auto left = cluster_.Get(*t, ns, name);
      if (!left.ok()) continue;
      remaining[t->plural + "." + t->group]++;
      const json& f = left.value()["metadata"].value("finalizers", json::array());
      if (f.is_array())
        for (const auto& x : f)
          if (x.is_string()) finalizers[x.get<std::string>()]++;
    }
    return cluster_.store().Transact([&](ObjectStore::Txn& txn) {
      const json* nso = txn.Get("/namespaces", "", ns);
      if (!nso) return true;
      json updated = *nso;
      updated["status"]["conditions"] = Conditions(remaining, finalizers, nso);
      if (remaining.empty()) {
        // Content gone: the "kubernetes" finalizer is this controller's to remove.
        json spec_f = updated.value("spec", json::object()).value("finalizers", json::array());
        json kept = json::array();
        if (spec_f.is_array())
          for (const auto& f : spec_f)
            if (f != "kubernetes") kept.push_back(f);
        if (kept.empty()) {
          if (updated.contains("spec")) updated["spec"].erase("finalizers");
        } else {
          updated["spec"]["finalizers"] = kept;
        }
        const json& md_f = updated["metadata"].value("finalizers", json::array());
        if (kept.empty() && (!md_f.is_array() || md_f.empty())) {
          txn.Remove("/namespaces", "", ns);
          return true;
        }
      }
      if (updated != *nso) txn.Put("/namespaces", updated);
      return false;
    });
  }

  static json Conditions(const std::map<std::string, int>& remaining,
                         const std::map<std::string, int>& finalizers, const json* current) {
    auto join = [](const std::map<std::string, int>& m, const char* fmt) {
      std::string out;
      for (const auto& [k, n] : m) {
        char buf[64];
        std::snprintf(buf, sizeof buf, fmt, n);
        out += (out.empty() ? "" : ", ") + k + buf;
      }
      return out;
    };
    json conds = json::array();
    auto add = [&](const char* type, bool status, const char* reason, const std::string& msg) {
      std::string time = NowRfc3339();
      const json& old = current->value("status", json::object()).value("conditions", json::array());
      if (old.is_array())
        for (const auto& c : old)
          if (c.value("type", "") == type && c.value("status", "") == (status ? "True" : "False"))
            time = c.value("lastTransitionTime", time);
      conds.push_back({{"type", type},
                       {"status", status ? "True" : "False"},
                       {"lastTransitionTime", time},
                       {"reason", reason},
                       {"message", msg}});
    };
    add("NamespaceDeletionDiscoveryFailure", false, "ResourcesDiscovered",
        "All resources successfully discovered");
    add("NamespaceDeletionGroupVersionParsingFailure", false, "ParsedGroupVersions",
        "All legacy kube types successfully parsed");
    add("NamespaceDeletionContentFailure", false, "ContentDeleted",
        "All content successfully deleted, may be waiting on finalization");
    if (remaining.empty()) {
      add("NamespaceContentRemaining", false, "ContentRemoved", "All content successfully removed");
    } else {
      add("NamespaceContentRemaining", true, "SomeResourcesRemain",
          "Some resources are remaining: " + join(remaining, " has %d resource instances"));
    }
    if (finalizers.empty()) {
      add("NamespaceFinalizersRemaining", false, "ContentHasNoFinalizers",
          "All content-preserving finalizers finished");
    } else {
      add("NamespaceFinalizersRemaining", true, "SomeFinalizersRemain",
          "Some content in the namespace has finalizers remaining: " +
              join(finalizers, " in %d resource instances"));
    }
    return conds;
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
