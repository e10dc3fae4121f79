// The garbage collector: ownerReferences-driven deletion (see controller.h).
#include <algorithm>
#include <set>
#include <tuple>

#include "hack/kube-sim/controller.h"

namespace shardwise::kubesim {
namespace {

struct Ref {
  std::string collection, ns, name;
  bool operator<(const Ref& o) const {
    return std::tie(collection, ns, name) < std::tie(o.collection, o.ns, o.name);
  }
};

std::string Meta(const json& o, const char* k) {
  return o.value("metadata", json::object()).value(k, "");
}

class GarbageCollector : public Controller {
 public:
  explicit GarbageCollector(Cluster& cluster) : cluster_(cluster) {}

  void OnEvent(const WatchEvent& e) override {
    if (e.type == "DELETED") {
      orphan_check_ = true;
      return;
    }
    const json& md = e.object.value("metadata", json::object());
    if (md.contains("deletionTimestamp") && md.contains("finalizers")) {
      for (const auto& f : md["finalizers"]) {
        if (f == "foregroundDeletion" || f == "orphan")
          pending_.insert({e.collection, md.value("namespace", ""), md.value("name", "")});
      }
    }
  }

  void Resync() override {
    if (orphan_check_) {
      orphan_check_ = false;
      CollectOrphans();
    }
    for (auto it = pending_.begin(); it != pending_.end();) {
      it = Finish(*it) ? pending_.erase(it) : std::next(it);
    }
  }

 private:
  struct Dependent {
    Ref ref;
    json object;
  };

  // Every object with ownerReferences, plus the set of live uids.
  void Scan(std::vector<Dependent>& dependents, std::set<std::string>& uids) {
    cluster_.store().Transact([&](ObjectStore::Txn& txn) {
      for (const auto& c : txn.Collections()) {
        for (const json* o : txn.List(c, "")) {
          uids.insert(Meta(*o, "uid"));
          const json& md = (*o)["metadata"];
          if (md.contains("ownerReferences") && !md["ownerReferences"].empty())
            dependents.push_back({{c, Meta(*o, "namespace"), Meta(*o, "name")}, *o});
        }
      }
      return 0;
    });
  }

  void CollectOrphans() {
    std::vector<Dependent> dependents;
    std::set<std::string> uids;
    Scan(dependents, uids);
    for (const auto& d : dependents) {
      const json& refs = d.object["metadata"]["ownerReferences"];
      json alive = json::array();
      for (const auto& r : refs)
        if (uids.count(r.value("uid", ""))) alive.push_back(r);
      if (alive.size() == refs.size()) continue;
      TypePtr t = cluster_.TypeForStorage(d.ref.collection);
      if (!t) continue;
      if (alive.empty()) {
        cluster_.Delete(*t, d.ref.ns, d.ref.name, DeleteOptions{});
      } else {
        StripRefs(*t, d, alive);
      }
    }
  }

  void StripRefs(const ResourceType& t, const Dependent& d, const json& keep) {
    json body = Cluster::AsVersion(t, d.object);
    body["metadata"]["ownerReferences"] = keep;
    if (keep.empty()) body["metadata"].erase("ownerReferences");
    WriteContext ctx;
    ctx.field_manager = "generic-garbage-collector";
    cluster_.Update(t, d.ref.ns, d.ref.name, body, ctx);
  }

  // Completes one Foreground/Orphan deletion; true when nothing is left to do.
  bool Finish(const Ref& owner_ref) {
    TypePtr t = cluster_.TypeForStorage(owner_ref.collection);
    if (!t) return true;
    auto owner = cluster_.Get(*t, owner_ref.ns, owner_ref.name);
    if (!owner.ok()) return true;
    const json& md = owner.value()["metadata"];
    if (!md.contains("deletionTimestamp")) return true;
    auto finalizers = md.value("finalizers", std::vector<std::string>{});
    bool foreground =
        std::find(finalizers.begin(), finalizers.end(), "foregroundDeletion") != finalizers.end();
    bool orphan = std::find(finalizers.begin(), finalizers.end(), "orphan") != finalizers.end();
    if (!foreground && !orphan) return true;
    std::string uid = md.value("uid", "");
    std::vector<Dependent> dependents;
    std::set<std::string> uids;
    Scan(dependents, uids);
    // Uids that own something: dependents with dependents of their own go in the
    // foreground too, the others in the background.
    std::set<std::string> owners;
    for (const auto& d : dependents)
      for (const auto& r : d.object["metadata"]["ownerReferences"])
        owners.insert(r.value("uid", ""));
    bool remaining = false;
    for (const auto& d : dependents) {
      const json& refs = d.object["metadata"]["ownerReferences"];
      bool mine = false;
      json others = json::array();
      for (const auto& r : refs) {
        if (r.value("uid", "") == uid) {
          mine = true;
        } else {
          others.push_back(r);
        }
      }
      if (!mine) continue;
      if (t->namespaced && d.ref.ns != owner_ref.ns) continue;
      TypePtr dt = cluster_.TypeForStorage(d.ref.collection);
      if (!dt) continue;
      if (orphan) {
        StripRefs(*dt, d, others);
      } else {
        DeleteOptions opts;
        opts.propagation = owners.count(Meta(d.object, "uid")) ? "Foreground" : "Background";
        cluster_.Delete(*dt, d.ref.ns, d.ref.name, opts);
        remaining = remaining || cluster_.Get(*dt, d.ref.ns, d.ref.name).ok();
      }
    }
    if (remaining) return false;
    json body = owner.value();
    std::vector<std::string> left;
    for (const auto& f : finalizers)
      if (f != "foregroundDeletion" && f != "orphan") left.push_back(f);
    body["metadata"]["finalizers"] = left;
    WriteContext ctx;
    ctx.field_manager = "generic-garbage-collector";
    auto r = cluster_.Update(*t, owner_ref.ns, owner_ref.name, body, ctx);
    return r.ok() || r.error().code() == 404;
  }

  Cluster& cluster_;
  std::set<Ref> pending_;
  bool orphan_check_ = true;  // a restored state may hold orphans
};

}  // namespace

std::unique_ptr<Controller> NewGarbageCollector(Cluster& cluster) {
  return std::make_unique<GarbageCollector>(cluster);
}

}  // namespace shardwise::kubesim
