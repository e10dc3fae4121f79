// The ReplicaSet controller: keeps spec.replicas active pods (not terminating, not
// Succeeded/Failed) that the ReplicaSet controls, creating them from spec.template with
// a controller ownerReference and deleting the least useful ones first (unscheduled,
// then Pending, then not Ready, then the youngest), and reports status.replicas,
// fullyLabeledReplicas, readyReplicas, availableReplicas (Ready for minReadySeconds) and
// observedGeneration.
#include <algorithm>

#include "hack/kube-sim/reconciler.h"
#include "hack/kube-sim/time_util.h"
#include "hack/kube-sim/workload.h"

namespace shardwise::kubesim {
namespace {

// Lower ranks are deleted first.
int DeletionRank(const json& pod) {
  if (pod.value("spec", json::object()).value("nodeName", "").empty()) return 0;
  if (pod.value("status", json::object()).value("phase", "") == "Pending") return 1;
  if (!PodReady(pod)) return 2;
  return 3;
}

bool LabelsCover(const json& labels, const json& want) {
  if (!want.is_object()) return true;
  for (auto& [k, v] : want.items())
    if (!labels.is_object() || !labels.contains(k) || labels[k] != v) return false;
  return true;
}

class ReplicaSetController : public ReconcileController {
 public:
  explicit ReplicaSetController(Cluster& cluster)
      : ReconcileController(cluster, "apps/replicasets") {}

 protected:
  void Related(const WatchEvent& e) override {
    if (e.collection == "/pods") MarkOwner(e.object, "ReplicaSet");
  }

  void Reconcile(const std::string& ns, const std::string& name) override {
    TypePtr rs_type = cluster_.FindType("apps", "v1", "replicasets");
    TypePtr pod_type = cluster_.FindType("", "v1", "pods");
    auto got = cluster_.Get(*rs_type, ns, name);
    if (!got.ok()) return;  // gone: the garbage collector removes its pods
    json rs = std::move(got).value();
    const json& md = rs["metadata"];
    const std::string uid = md.value("uid", "");
    const json& spec = rs.value("spec", json::object());
    long replicas = spec.value("replicas", 1L);
    long min_ready = spec.value("minReadySeconds", 0L);

    std::vector<json> active;
    for (auto& p : ListObjects(cluster_, "", "pods", ns))
      if (ControlledBy(p, uid) && PodActive(p)) active.push_back(std::move(p));

    WriteContext ctx;
    ctx.field_manager = kControllerManager;
    if (!md.contains("deletionTimestamp")) {
      long diff = static_cast<long>(active.size()) - replicas;
      if (diff < 0) {
        for (long i = 0; i < -diff; ++i) {
          auto created = cluster_.Create(*pod_type, ns, NewPod(rs), ctx);
          if (created.ok()) {
            RecordEvent(cluster_, rs, "Normal", "SuccessfulCreate",
                        "Created pod: " + created.value().object["metadata"].value("name", ""),
                        "replicaset-controller");
            active.push_back(created.value().object);
          } else {
            RecordEvent(cluster_, rs, "Warning", "FailedCreate",
                        "Error creating: " + created.error().message(), "replicaset-controller");
            break;
          }
        }
      } else if (diff > 0) {
        std::stable_sort(active.begin(), active.end(), [](const json& a, const json& b) {
          int ra = DeletionRank(a), rb = DeletionRank(b);
          if (ra != rb) return ra < rb;
          // Younger pods first.
          return a["metadata"].value("creationTimestamp", "") >
                 b["metadata"].value("creationTimestamp", "");
        });
        for (long i = 0; i < diff; ++i) {
          const std::string pod_name = active[i]["metadata"].value("name", "");
          if (cluster_.Delete(*pod_type, ns, pod_name, DeleteOptions{}).ok())
            RecordEvent(cluster_, rs, "Normal", "SuccessfulDelete", "Deleted pod: " + pod_name,
                        "replicaset-controller");
        }
        active.erase(active.begin(), active.begin() + diff);
      }
    }
    UpdateStatus(*rs_type, rs, active, min_ready);
  }

 private:
  json NewPod(const json& rs) {
    const json& tmpl = rs["spec"].value("template", json::object());
    json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}};
    pod["metadata"] = tmpl.value("metadata", json::object());
    pod["metadata"].erase("name");
    pod["metadata"]["generateName"] = rs["metadata"].value("name", "") + "-";
    pod["metadata"]["ownerReferences"] = json::array({ControllerRef(rs, "apps/v1", "ReplicaSet")});
    pod["spec"] = tmpl.value("spec", json::object());
    return pod;
  }

  void UpdateStatus(const ResourceType& t, const json& rs, const std::vector<json>& active,
                    long min_ready) {
    long long now = NowSeconds();
    const json& tmpl_labels = rs["spec"]
                                  .value("template", json::object())
                                  .value("metadata", json::object())
                                  .value("labels", json::object());
    long labeled = 0, ready = 0, available = 0;
    for (const auto& p : active) {
      if (LabelsCover(p["metadata"].value("labels", json::object()), tmpl_labels)) ++labeled;
      if (PodReady(p)) ++ready;
      if (PodAvailable(p, min_ready, now)) ++available;
    }
    json status = rs.value("status", json::object());
    status["replicas"] = static_cast<long>(active.size());
    status["fullyLabeledReplicas"] = labeled;
    status["readyReplicas"] = ready;
    status["availableReplicas"] = available;
    status["observedGeneration"] = rs["metadata"].value("generation", 1L);
    if (status == rs.value("status", json::object())) return;
    json next = rs;
    next["status"] = status;
    WriteContext ctx;
    ctx.field_manager = kControllerManager;
    cluster_.Update(t, rs["metadata"].value("namespace", ""), rs["metadata"].value("name", ""),
                    next, ctx, "status");
  }
};

}  // namespace

std::unique_ptr<Controller> NewReplicaSetController(Cluster& cluster) {
  return std::make_unique<ReplicaSetController>(cluster);
}

}  // namespace shardwise::kubesim
