// The PodDisruptionBudget (policy/v1) status controller: currentHealthy = selected pods
// that are Ready and not terminating; desiredHealthy from minAvailable (a number, or a
// percentage of expectedPods) or maxUnavailable (expectedPods minus it); expectedPods =
// the number of selected pods for an integer minAvailable, otherwise the sum of the
// scales of the pods' controllers (a ReplicaSet's Deployment, StatefulSets, anything with
// a scale subresource); disruptionsAllowed = max(0, currentHealthy - desiredHealthy) and
// the DisruptionAllowed condition (SufficientPods / InsufficientPods).
#include <algorithm>
#include <cmath>
#include <set>

#include "hack/kube-sim/reconciler.h"
#include "hack/kube-sim/workload.h"

namespace shardwise::kubesim {
namespace {

class PdbController : public ReconcileController {
 public:
  explicit PdbController(Cluster& cluster)
      : ReconcileController(cluster, "policy/poddisruptionbudgets") {}

 protected:
  void Related(const WatchEvent& e) override {
    if (e.collection == "/pods" || e.collection == "apps/replicasets" ||
        e.collection == "apps/deployments" || e.collection == "apps/statefulsets")
      MarkNamespace(e.object.value("metadata", json::object()).value("namespace", ""));
  }

  void Reconcile(const std::string& ns, const std::string& name) override {
    TypePtr pdb_type = cluster_.FindType("policy", "v1", "poddisruptionbudgets");
    auto got = cluster_.Get(*pdb_type, ns, name);
    if (!got.ok()) return;
    const json& pdb = got.value();
    const json& spec = pdb.value("spec", json::object());
    const json& sel_json = spec.value("selector", json());
    std::vector<json> pods;
    if (sel_json.is_object()) {
      auto text = LabelSelectorText(sel_json);
      auto sel = text ? Selector::ParseLabels(*text) : ApiResult<Selector>(Selector());
      if (text && sel.ok())
        for (auto& p : ListObjects(cluster_, "", "pods", ns))
          if (sel.value().Matches(p)) pods.push_back(std::move(p));
    }
    long healthy = 0;
    for (const auto& p : pods)
      if (!PodTerminating(p) && PodReady(p)) ++healthy;

    long expected = 0, desired = 0;
    const json& min_available = spec.value("minAvailable", json());
    const json& max_unavailable = spec.value("maxUnavailable", json());
    if (min_available.is_number_integer() && max_unavailable.is_null()) {
      expected = static_cast<long>(pods.size());
      desired = min_available.get<long>();
    } else {
      expected = ExpectedScale(ns, pods);
      if (!max_unavailable.is_null()) {
        long mu = IntOrPercent(max_unavailable, expected, true, 0);
        desired = std::max(0L, expected - mu);
      } else if (!min_available.is_null()) {
        desired = IntOrPercent(min_available, expected, true, 0);
      }
    }
    long allowed = std::max(0L, healthy - desired);
    json status = pdb.value("status", json::object());
    json old = status;
    long generation = pdb["metadata"].value("generation", 1L);
    status["observedGeneration"] = generation;
    status["currentHealthy"] = healthy;
    status["desiredHealthy"] = desired;
    status["expectedPods"] = expected;
    status["disruptionsAllowed"] = allowed;
    if (!status.contains("disruptedPods")) status["disruptedPods"] = json::object();
    json& conds = status["conditions"];
    if (!conds.is_array()) conds = json::array();
    SetCondition(conds, "DisruptionAllowed", allowed > 0 ? "True" : "False",
                 allowed > 0 ? "SufficientPods" : "InsufficientPods", "");
    for (auto& c : conds)
      if (c.value("type", "") == "DisruptionAllowed") c["observedGeneration"] = generation;
    if (status == old) return;
    json next = pdb;
    next["status"] = status;
    WriteContext ctx;
    ctx.field_manager = kControllerManager;
    cluster_.Update(*pdb_type, ns, name, next, ctx, "status");
  }

 private:
  // The summed desired replicas of the pods' controllers (each counted once).
  long ExpectedScale(const std::string& ns, const std::vector<json>& pods) {
    std::set<std::string> seen;
    long total = 0;
    for (const auto& p : pods) {
      for (const auto& ref : p["metadata"].value("ownerReferences", json::array())) {
        if (!ref.value("controller", false)) continue;
        std::string kind = ref.value("kind", ""), api_version = ref.value("apiVersion", "");
        std::string owner = ref.value("name", "");
        if (kind == "ReplicaSet") {
          TypePtr rs_type = cluster_.FindType("apps", "v1", "replicasets");
          auto rs = cluster_.Get(*rs_type, ns, owner);
          if (!rs.ok()) continue;
          for (const auto& rref : rs.value()["metadata"].value("ownerReferences", json::array()))
            if (rref.value("controller", false) && rref.value("kind", "") == "Deployment") {
              kind = "Deployment";
              api_version = rref.value("apiVersion", "");
              owner = rref.value("name", "");
            }
        }
        if (!seen.insert(kind + "/" + owner).second) continue;
        for (const auto& t : cluster_.Types()) {
          if (t->kind != kind || !t->has_scale || t->GroupVersion() != api_version) continue;
          auto scale = cluster_.GetScale(*t, ns, owner);
          if (scale.ok()) total += scale.value()["spec"].value("replicas", 0L);
          break;
        }
      }
    }
    return total;
  }
};

}  // namespace

std::unique_ptr<Controller> NewPdbController(Cluster& cluster) {
  return std::make_unique<PdbController>(cluster);
}

}  // namespace shardwise::kubesim
