// The Deployment controller, after kube-controller-manager's: one ReplicaSet per pod
// template, named <deployment>-<pod-template-hash> and selecting that hash label; the
// template's ReplicaSet is the "new" one, every other owned ReplicaSet is "old".
// RollingUpdate scales the new one up within maxSurge and old ones down within
// maxUnavailable (unhealthy old replicas first, then oldest ReplicaSets first); Recreate
// scales every old ReplicaSet to 0, waits for their pods to go, then scales up the new
// one. Revisions live in the deployment.kubernetes.io/revision annotation of both the
// ReplicaSets and the Deployment (a template that returns to an old ReplicaSet, as in
// `kubectl rollout undo`, gives that ReplicaSet the next revision); old ReplicaSets
// beyond revisionHistoryLimit are deleted once scaled to zero. Status and the Available
// and Progressing conditions follow what `kubectl rollout status` reads.
#include <algorithm>

#include "hack/kube-sim/reconciler.h"
#include "hack/kube-sim/time_util.h"
#include "hack/kube-sim/workload.h"

namespace shardwise::kubesim {
namespace {

constexpr char kHashLabel[] = "pod-template-hash";
constexpr char kRevision[] = "deployment.kubernetes.io/revision";
constexpr char kRevisionHistory[] = "deployment.kubernetes.io/revision-history";
constexpr char kDesiredReplicas[] = "deployment.kubernetes.io/desired-replicas";
constexpr char kMaxReplicas[] = "deployment.kubernetes.io/max-replicas";
constexpr char kComponent[] = "deployment-controller";

bool SkipCopyAnnotation(const std::string& key) {
  return key == "kubectl.kubernetes.io/last-applied-configuration" || key == kRevision ||
         key == kRevisionHistory || key == kDesiredReplicas || key == kMaxReplicas ||
         key == "deprecated.deployment.rollback.to";
}

json WithoutHash(json tmpl) {
  if (tmpl.is_object() && tmpl.contains("metadata") && tmpl["metadata"].is_object() &&
      tmpl["metadata"].contains("labels") && tmpl["metadata"]["labels"].is_object()) {
    tmpl["metadata"]["labels"].erase(kHashLabel);
    if (tmpl["metadata"]["labels"].empty()) tmpl["metadata"].erase("labels");
  }
  return tmpl;
}

long Revision(const json& obj) {
  const json& a = obj["metadata"].value("annotations", json::object());
  if (!a.is_object() || !a.contains(kRevision) || !a[kRevision].is_string()) return 0;
  try {
    return std::stol(a[kRevision].get<std::string>());
  } catch (...) {
    return 0;
  }
}

long SpecReplicas(const json& o) { return o.value("spec", json::object()).value("replicas", 0L); }
long StatusInt(const json& o, const char* k) {
  return o.value("status", json::object()).value(k, 0L);
}
std::string Name(const json& o) { return o["metadata"].value("name", ""); }

class DeploymentController : public ReconcileController {
 public:
  explicit DeploymentController(Cluster& cluster)
      : ReconcileController(cluster, "apps/deployments") {}

 protected:
  void Related(const WatchEvent& e) override {
    if (e.collection == "apps/replicasets") MarkOwner(e.object, "Deployment");
  }

  void Reconcile(const std::string& ns, const std::string& name) override {
    rs_type_ = cluster_.FindType("apps", "v1", "replicasets");
    d_type_ = cluster_.FindType("apps", "v1", "deployments");
    auto got = cluster_.Get(*d_type_, ns, name);
    if (!got.ok()) return;
    json d = std::move(got).value();
    if (d["metadata"].contains("deletionTimestamp")) return;
    if (!d["spec"].is_object()) return;
    const std::string uid = d["metadata"].value("uid", "");
    std::vector<json> all;
    for (auto& rs : ListObjects(cluster_, "apps", "replicasets", ns))
      if (ControlledBy(rs, uid)) all.push_back(std::move(rs));
    std::sort(all.begin(), all.end(), [](const json& a, const json& b) {
      return a["metadata"].value("creationTimestamp", "") <
             b["metadata"].value("creationTimestamp", "");
    });

    const json tmpl = d["spec"].value("template", json::object());
    replicas_ = d["spec"].value("replicas", 1L);
    const json& strategy = d["spec"].value("strategy", json::object());
    recreate_ = strategy.value("type", "RollingUpdate") == "Recreate";
    const json& ru = strategy.value("rollingUpdate", json::object());
    max_surge_ =
        recreate_ ? 0 : IntOrPercent(ru.value("maxSurge", json("25%")), replicas_, true, 0);
    max_unavailable_ =
        recreate_ ? 0 : IntOrPercent(ru.value("maxUnavailable", json("25%")), replicas_, false, 0);
    if (max_surge_ == 0 && max_unavailable_ == 0) max_unavailable_ = 1;
    if (max_unavailable_ > replicas_) max_unavailable_ = replicas_;

    json* new_rs = nullptr;
    std::vector<json*> old;
    for (auto& rs : all) {
      if (!new_rs && WithoutHash(rs["spec"].value("template", json::object())) == WithoutHash(tmpl))
        new_rs = &rs;
      else
        old.push_back(&rs);
    }
    long max_old_revision = 0;
    for (json* rs : old) max_old_revision = std::max(max_old_revision, Revision(*rs));
    const long new_revision = max_old_revision + 1;
    bool paused = d["spec"].value("paused", false);
    bool created = false;

    if (new_rs) {
      SyncNewAnnotations(d, *new_rs, new_revision);
    } else if (!paused) {
      long initial = recreate_ ? 0 : NewReplicas(nullptr, all);
      auto rs = CreateNewReplicaSet(d, tmpl, new_revision, initial);
      if (!rs) return;  // retried at the next resync
      all.push_back(std::move(*rs));
      old.clear();
      for (size_t i = 0; i + 1 < all.size(); ++i) old.push_back(&all[i]);
      new_rs = &all.back();
      created = true;
      if (initial > 0)
        RecordEvent(
            cluster_, d, "Normal", "ScalingReplicaSet",
            "Scaled up replica set " + Name(*new_rs) + " from 0 to " + std::to_string(initial),
            kComponent);
    }
    if (new_rs) SetDeploymentRevision(d, Revision(*new_rs));

    if (paused) {
      // Only scaling is synced while paused; the rollout waits.
      if (new_rs && !HasActiveOld(old) && SpecReplicas(*new_rs) != replicas_)
        Scale(d, *new_rs, replicas_);
    } else if (recreate_) {
      bool scaled_old = false;
      for (json* rs : old)
        if (SpecReplicas(*rs) > 0) scaled_old |= Scale(d, *rs, 0);
      // Old pods still terminating count too: Recreate never runs two templates at once.
      bool old_pods = false;
      std::vector<json> pods = ListObjects(cluster_, "", "pods", ns);
      for (json* rs : old)
        for (const auto& p : pods)
          old_pods |= ControlledBy(p, (*rs)["metadata"].value("uid", "")) && !PodTerminal(p);
      if (!scaled_old && !old_pods && new_rs && SpecReplicas(*new_rs) != replicas_)
        Scale(d, *new_rs, replicas_);
    } else if (new_rs) {
      RollingUpdate(d, *new_rs, old, all);
    }
    if (!paused) CleanupOld(d, old);
    UpdateStatus(d, new_rs, all, created);
  }

 private:
  bool HasActiveOld(const std::vector<json*>& old) {
    for (json* rs : old)
      if (SpecReplicas(*rs) > 0) return true;
    return false;
  }

  long TotalSpec(const std::vector<json>& all) {
    long n = 0;
    for (const auto& rs : all) n += SpecReplicas(rs);
    return n;
  }

  // The new ReplicaSet's size for a rolling update (maxSurge bounds the total).
  long NewReplicas(const json* new_rs, const std::vector<json>& all) {
    long current_new = new_rs ? SpecReplicas(*new_rs) : 0;
    long total = TotalSpec(all);
    long max_total = replicas_ + max_surge_;
    if (total >= max_total) return current_new;
    long up = std::min(max_total - total, replicas_ - current_new);
    return current_new + std::max(0L, up);
  }

  std::optional<json> CreateNewReplicaSet(const json& d, const json& tmpl, long revision,
                                          long replicas) {
    const std::string ns = d["metadata"].value("namespace", "");
    long collisions = d.value("status", json::object()).value("collisionCount", 0L);
    for (int attempt = 0; attempt < 5; ++attempt, ++collisions) {
      std::string hash = ShortHash(WithoutHash(tmpl), collisions);
      json rs_tmpl = tmpl;
      rs_tmpl["metadata"]["labels"][kHashLabel] = hash;
      json rs = {{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}};
      rs["metadata"] = {
          {"name", Name(d) + "-" + hash},
          {"namespace", ns},
          {"labels", rs_tmpl["metadata"]["labels"]},
          {"ownerReferences", json::array({ControllerRef(d, "apps/v1", "Deployment")})}};
      json annotations = json::object();
      const json source = d["metadata"].value("annotations", json::object());
      for (auto& [k, v] : source.items())
        if (!SkipCopyAnnotation(k)) annotations[k] = v;
      annotations[kRevision] = std::to_string(revision);
      annotations[kDesiredReplicas] = std::to_string(replicas_);
      annotations[kMaxReplicas] = std::to_string(replicas_ + max_surge_);
      rs["metadata"]["annotations"] = annotations;
      json selector = d["spec"].value("selector", json::object());
      selector["matchLabels"][kHashLabel] = hash;
      rs["spec"] = {{"replicas", replicas}, {"selector", selector}, {"template", rs_tmpl}};
      if (d["spec"].contains("minReadySeconds"))
        rs["spec"]["minReadySeconds"] = d["spec"]["minReadySeconds"];
      WriteContext ctx;
      ctx.field_manager = kControllerManager;
      auto r = cluster_.Create(*rs_type_, ns, rs, ctx);
      if (r.ok()) return r.value().object;
      if (r.error().code() != 409) return std::nullopt;
    }
    return std::nullopt;
  }

  // Revision, copied annotations and replica annotations on the new ReplicaSet.
  void SyncNewAnnotations(const json& d, json& rs, long new_revision) {
    json next = rs;
    json& a = next["metadata"]["annotations"];
    if (!a.is_object()) a = json::object();
    const json source = d["metadata"].value("annotations", json::object());
    for (auto& [k, v] : source.items())
      if (!SkipCopyAnnotation(k)) a[k] = v;
    long old_revision = Revision(rs);
    if (old_revision < new_revision) {
      a[kRevision] = std::to_string(new_revision);
      if (old_revision > 0) {
        std::string history = a.value(kRevisionHistory, "");
        a[kRevisionHistory] = history.empty() ? std::to_string(old_revision)
                                              : history + "," + std::to_string(old_revision);
      }
    }
    a[kDesiredReplicas] = std::to_string(replicas_);
    a[kMaxReplicas] = std::to_string(replicas_ + max_surge_);
    if (next["spec"].value("minReadySeconds", 0L) != d["spec"].value("minReadySeconds", 0L))
      next["spec"]["minReadySeconds"] = d["spec"].value("minReadySeconds", 0L);
    if (next == rs) return;
    WriteContext ctx;
    ctx.field_manager = kControllerManager;
    auto r = cluster_.Update(*rs_type_, d["metadata"].value("namespace", ""), Name(rs), next, ctx);
    if (r.ok()) rs = r.value().object;
  }

  void SetDeploymentRevision(json& d, long revision) {
    std::string want = std::to_string(revision);
    json& a = d["metadata"]["annotations"];
    if (a.is_object() && a.value(kRevision, "") == want) return;
    json next = d;
    next["metadata"]["annotations"][kRevision] = want;
    WriteContext ctx;
    ctx.field_manager = kControllerManager;
    auto r = cluster_.Update(*d_type_, d["metadata"].value("namespace", ""), Name(d), next, ctx);
    if (r.ok()) d = r.value().object;
  }

  // Scales `rs` to `to` replicas; true if it wrote.
  bool Scale(const json& d, json& rs, long to) {
    long from = SpecReplicas(rs);
    json next = rs;
    next["spec"]["replicas"] = to;
    next["metadata"]["annotations"][kDesiredReplicas] = std::to_string(replicas_);
    next["metadata"]["annotations"][kMaxReplicas] = std::to_string(replicas_ + max_surge_);
    if (next == rs) return false;
    WriteContext ctx;
    ctx.field_manager = kControllerManager;
    auto r = cluster_.Update(*rs_type_, d["metadata"].value("namespace", ""), Name(rs), next, ctx);
    if (!r.ok()) return false;
    rs = r.value().object;
    if (from != to)
      RecordEvent(cluster_, d, "Normal", "ScalingReplicaSet",
                  std::string(to > from ? "Scaled up" : "Scaled down") + " replica set " +
                      Name(rs) + " from " + std::to_string(from) + " to " + std::to_string(to),
                  kComponent);
    return true;
  }

  void RollingUpdate(const json& d, json& new_rs, const std::vector<json*>& old,
                     std::vector<json>& all) {
    // The new ReplicaSet: down to the target if above it, else up within maxSurge.
    long current_new = SpecReplicas(new_rs);
    if (current_new > replicas_) {
      Scale(d, new_rs, replicas_);
    } else if (current_new < replicas_) {
      long want = NewReplicas(&new_rs, all);
      if (want != current_new) Scale(d, new_rs, want);
    }
    long old_pods = 0;
    for (json* rs : old) old_pods += SpecReplicas(*rs);
    if (old_pods == 0) return;
    // Old ReplicaSets: down as far as maxUnavailable allows.
    long all_pods = TotalSpec(all);
    long min_available = replicas_ - max_unavailable_;
    long new_unavailable = SpecReplicas(new_rs) - StatusInt(new_rs, "availableReplicas");
    long max_scaled_down = all_pods - min_available - new_unavailable;
    if (max_scaled_down <= 0) return;
    std::vector<json*> sorted = old;
    std::sort(sorted.begin(), sorted.end(), [](const json* a, const json* b) {
      return (*a)["metadata"].value("creationTimestamp", "") <
             (*b)["metadata"].value("creationTimestamp", "");
    });
    // Unhealthy replicas of old ReplicaSets go first: they cost no availability.
    long cleaned = 0;
    for (json* rs : sorted) {
      if (cleaned >= max_scaled_down) break;
      long spec = SpecReplicas(*rs);
      long unhealthy = spec - StatusInt(*rs, "availableReplicas");
      if (spec == 0 || unhealthy <= 0) continue;
      long down = std::min(max_scaled_down - cleaned, unhealthy);
      if (Scale(d, *rs, spec - down)) cleaned += down;
    }
    // Then available ones, keeping minAvailable.
    long available = 0;
    for (const auto& rs : all) available += StatusInt(rs, "availableReplicas");
    if (available <= min_available) return;
    long total_down = std::min(available - min_available, max_scaled_down - cleaned);
    long scaled = 0;
    for (json* rs : sorted) {
      if (scaled >= total_down) break;
      long spec = SpecReplicas(*rs);
      if (spec == 0) continue;
      long down = std::min(spec, total_down - scaled);
      if (Scale(d, *rs, spec - down)) scaled += down;
    }
  }

  void CleanupOld(const json& d, const std::vector<json*>& old) {
    long limit = d["spec"].value("revisionHistoryLimit", 10L);
    std::vector<json*> deletable;
    for (json* rs : old)
      if (SpecReplicas(*rs) == 0 && StatusInt(*rs, "replicas") == 0 &&
          StatusInt(*rs, "observedGeneration") >= (*rs)["metadata"].value("generation", 1L))
        deletable.push_back(rs);
    long excess = static_cast<long>(old.size()) - limit;
    if (excess <= 0) return;
    std::sort(deletable.begin(), deletable.end(),
              [](const json* a, const json* b) { return Revision(*a) < Revision(*b); });
    for (long i = 0; i < excess && i < static_cast<long>(deletable.size()); ++i)
      cluster_.Delete(*rs_type_, d["metadata"].value("namespace", ""), Name(*deletable[i]),
                      DeleteOptions{});
  }

  void UpdateStatus(const json& d, const json* new_rs, const std::vector<json>& all, bool created) {
    long replicas = 0, ready = 0, available = 0;
    for (const auto& rs : all) {
      replicas += StatusInt(rs, "replicas");
      ready += StatusInt(rs, "readyReplicas");
      available += StatusInt(rs, "availableReplicas");
    }
    long updated = new_rs ? StatusInt(*new_rs, "replicas") : 0;
    json old_status = d.value("status", json::object());
    json status = old_status;
    status["observedGeneration"] = d["metadata"].value("generation", 1L);
    status["replicas"] = replicas;
    status["updatedReplicas"] = updated;
    status["readyReplicas"] = ready;
    status["availableReplicas"] = available;
    status["unavailableReplicas"] = std::max(0L, TotalSpec(all) - available);
    json& conds = status["conditions"];
    if (!conds.is_array()) conds = json::array();
    if (available >= replicas_ - max_unavailable_) {
      SetCondition(conds, "Available", "True", "MinimumReplicasAvailable",
                   "Deployment has minimum availability.", true);
    } else {
      SetCondition(conds, "Available", "False", "MinimumReplicasUnavailable",
                   "Deployment does not have minimum availability.", true);
    }
    const std::string rs_name = new_rs ? Name(*new_rs) : "";
    bool complete = new_rs && updated == replicas_ && replicas == replicas_ &&
                    available >= replicas_ && StatusInt(*new_rs, "availableReplicas") >= replicas_;
    bool paused = d["spec"].value("paused", false);
    const json* progressing = FindCondition(conds, "Progressing");
    if (paused) {
      SetCondition(conds, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused",
                   true);
    } else if (complete) {
      SetCondition(conds, "Progressing", "True", "NewReplicaSetAvailable",
                   "ReplicaSet \"" + rs_name + "\" has successfully progressed.", true);
    } else if (created) {
      SetCondition(conds, "Progressing", "True", "NewReplicaSetCreated",
                   "Created new replica set \"" + rs_name + "\"", true);
    } else if (new_rs) {
      bool moved = old_status.value("replicas", -1L) != replicas ||
                   old_status.value("updatedReplicas", -1L) != updated ||
                   old_status.value("readyReplicas", -1L) != ready ||
                   old_status.value("availableReplicas", -1L) != available;
      long deadline = d["spec"].value("progressDeadlineSeconds", 600L);
      auto last = progressing ? ParseRfc3339(progressing->value("lastUpdateTime", ""))
                              : std::optional<long long>();
      if (progressing && progressing->value("reason", "") == "ProgressDeadlineExceeded" && !moved) {
        // Stays timed out until something moves.
      } else if (!moved && last && NowSeconds() - *last > deadline) {
        SetCondition(conds, "Progressing", "False", "ProgressDeadlineExceeded",
                     "ReplicaSet \"" + rs_name + "\" has timed out progressing.", true);
      } else if (!SetCondition(conds, "Progressing", "True", "ReplicaSetUpdated",
                               "ReplicaSet \"" + rs_name + "\" is progressing.", true) &&
                 moved) {
        for (auto& c : conds)
          if (c.value("type", "") == "Progressing") c["lastUpdateTime"] = NowRfc3339();
      }
    }
    if (status == old_status) return;
    json next = d;
    next["status"] = status;
    WriteContext ctx;
    ctx.field_manager = kControllerManager;
    cluster_.Update(*d_type_, d["metadata"].value("namespace", ""), Name(d), next, ctx, "status");
  }

  TypePtr rs_type_, d_type_;
  long replicas_ = 1, max_surge_ = 0, max_unavailable_ = 0;
  bool recreate_ = false;
};

}  // namespace

std::unique_ptr<Controller> NewDeploymentController(Cluster& cluster) {
  return std::make_unique<DeploymentController>(cluster);
}

}  // namespace shardwise::kubesim
