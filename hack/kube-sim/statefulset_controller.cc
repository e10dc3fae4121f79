// The StatefulSet controller: pods <name>-<ordinal> for ordinals 0 … replicas-1, each
// with the claims of spec.volumeClaimTemplates (<template>-<name>-<ordinal>, created
// before the pod and mounted as the template's volume name). A pod that is deleted or
// fails is recreated with the same name. OrderedReady (the default) creates one ordinal
// at a time, waiting for the previous ones to be Running and Ready, and removes surplus
// ordinals highest first, one at a time; Parallel does both at once. Templates are
// recorded as ControllerRevisions; pods carry controller-revision-hash. RollingUpdate
// replaces pods at ordinals >= partition whose revision is not the update revision,
// highest first, one at a time, waiting for every pod to be healthy; OnDelete leaves
// that to the user. persistentVolumeClaimRetentionPolicy: Delete makes the claims owned
// by the StatefulSet (whenDeleted) or by the condemned pod (whenScaled), so the
// garbage collector removes them; Retain (default) keeps them.
#include <map>

#include "hack/kube-sim/reconciler.h"
#include "hack/kube-sim/time_util.h"
#include "hack/kube-sim/workload.h"

namespace shardwise::kubesim {
namespace {

constexpr char kRevisionLabel[] = "controller-revision-hash";

bool RunningAndReady(const json& pod) {
  return pod.value("status", json::object()).value("phase", "") == "Running" && PodReady(pod);
}

std::string PodRevision(const json& pod) {
  return pod["metadata"].value("labels", json::object()).value(kRevisionLabel, "");
}

class StatefulSetController : public ReconcileController {
 public:
  explicit StatefulSetController(Cluster& cluster)
      : ReconcileController(cluster, "apps/statefulsets") {}

 protected:
  void Related(const WatchEvent& e) override {
    if (e.collection == "/pods") MarkOwner(e.object, "StatefulSet");
  }

  void Reconcile(const std::string& ns, const std::string& name) override {
    sts_type_ = cluster_.FindType("apps", "v1", "statefulsets");
    pod_type_ = cluster_.FindType("", "v1", "pods");
    auto got = cluster_.Get(*sts_type_, ns, name);
    if (!got.ok()) return;  // gone: the garbage collector removes its pods
    json set = std::move(got).value();
    if (set["metadata"].contains("deletionTimestamp") || !set["spec"].is_object()) return;
    const json& spec = set["spec"];
    const long replicas = spec.value("replicas", 1L);
    const bool parallel = spec.value("podManagementPolicy", "OrderedReady") == "Parallel";
    const json& strategy = spec.value("updateStrategy", json::object());
    const bool rolling = strategy.value("type", "RollingUpdate") == "RollingUpdate";
    const long partition = strategy.value("rollingUpdate", json::object()).value("partition", 0L);
    const long min_ready = spec.value("minReadySeconds", 0L);

    json update_tmpl = spec.value("template", json::object());
    Revisions revs =
        SyncControllerRevisions(cluster_, set, "StatefulSet", TemplatePatch(update_tmpl));
    if (revs.update.is_null()) return;
    const std::string update_rev = revs.update["metadata"].value("name", "");
    std::string current_rev = set.value("status", json::object()).value("currentRevision", "");
    json current_tmpl = update_tmpl;
    bool have_current = false;
    for (const auto& r : revs.all) {
      if (r["metadata"].value("name", "") == current_rev) {
        current_tmpl = r["data"]["spec"]["template"];
        current_tmpl.erase("$patch");
        have_current = true;
      }
    }
    if (!have_current) current_rev = update_rev;

    const std::string uid = set["metadata"].value("uid", "");
    std::map<long, json> pods;  // ordinal -> pod
    WriteContext ctx;
    ctx.field_manager = kControllerManager;
    for (auto& p : ListObjects(cluster_, "", "pods", ns)) {
      if (!ControlledBy(p, uid)) continue;
      long ordinal = Ordinal(name, p["metadata"].value("name", ""));
      if (ordinal < 0) {
        cluster_.Delete(*pod_type_, ns, p["metadata"].value("name", ""), DeleteOptions{});
        continue;
      }
      pods[ordinal] = std::move(p);
    }

    bool blocked = false;
    // Create missing ordinals and replace failed ones, lowest first.
    for (long i = 0; i < replicas && !blocked; ++i) {
      auto it = pods.find(i);
      if (it != pods.end() && PodTerminal(it->second) && !PodTerminating(it->second)) {
        cluster_.Delete(*pod_type_, ns, it->second["metadata"].value("name", ""), DeleteOptions{});
        pods.erase(it);
        it = pods.end();
        if (!parallel) blocked = true;
        continue;
      }
      if (it == pods.end()) {
        bool at_current = rolling ? i < partition : current_rev != update_rev;
        const json& tmpl = at_current ? current_tmpl : update_tmpl;
        const std::string& rev = at_current ? current_rev : update_rev;
        EnsureClaims(set, i);
        auto created = cluster_.Create(*pod_type_, ns, NewPod(set, tmpl, rev, i), ctx);
        if (created.ok()) {
          pods[i] = created.value().object;
          RecordEvent(cluster_, set, "Normal", "SuccessfulCreate",
                      "create Pod " + name + "-" + std::to_string(i) + " in StatefulSet " + name +
                          " successful",
                      "statefulset-controller");
        }
        if (!parallel) blocked = true;
        continue;
      }
      if (!parallel && (PodTerminating(it->second) || !RunningAndReady(it->second))) blocked = true;
    }

    // Remove surplus ordinals, highest first.
    if (!blocked) {
      for (auto it = pods.rbegin(); it != pods.rend(); ++it) {
        if (it->first < replicas) break;
        if (PodTerminating(it->second)) {
          if (!parallel) break;
          continue;
        }
        if (!parallel && !AllHealthy(pods, it->first)) break;
        ScaleDownClaims(set, it->first, it->second);
        cluster_.Delete(*pod_type_, ns, it->second["metadata"].value("name", ""), DeleteOptions{});
        RecordEvent(cluster_, set, "Normal", "SuccessfulDelete",
                    "delete Pod " + it->second["metadata"].value("name", "") + " in StatefulSet " +
                        name + " successful",
                    "statefulset-controller");
        it->second["metadata"]["deletionTimestamp"] = NowRfc3339();
        if (!parallel) {
          blocked = true;
          break;
        }
      }
    }

    // Rolling update: the highest ordinal not at the update revision, once all are healthy.
    if (!blocked && rolling) {
      for (long target = replicas - 1; target >= partition; --target) {
        auto it = pods.find(target);
        if (it == pods.end()) break;
        if (PodRevision(it->second) != update_rev && !PodTerminating(it->second)) {
          if (AllHealthy(pods, replicas)) {
            cluster_.Delete(*pod_type_, ns, it->second["metadata"].value("name", ""),
                            DeleteOptions{});
            it->second["metadata"]["deletionTimestamp"] = NowRfc3339();
          }
          break;
        }
        if (!RunningAndReady(it->second) || PodTerminating(it->second)) break;
      }
    }

    UpdateStatus(set, pods, replicas, current_rev, update_rev, min_ready);
    std::vector<std::string> keep = {current_rev, update_rev};
    for (const auto& [_, p] : pods) keep.push_back(PodRevision(p));
    TrimControllerRevisions(cluster_, revs.all, spec.value("revisionHistoryLimit", 10L), keep);
  }

 private:
  static long Ordinal(const std::string& set, const std::string& pod) {
    if (pod.size() <= set.size() + 1 || pod.compare(0, set.size() + 1, set + "-") != 0) return -1;
    std::string tail = pod.substr(set.size() + 1);
    if (tail.empty() || tail.size() > 9 ||
        tail.find_first_not_of("0123456789") != std::string::npos)
      return -1;
    if (tail.size() > 1 && tail[0] == '0') return -1;
    return std::stol(tail);
  }

  static bool AllHealthy(const std::map<long, json>& pods, long below) {
    for (const auto& [i, p] : pods)
      if (i < below && (!RunningAndReady(p) || PodTerminating(p))) return false;
    return true;
  }

  json NewPod(const json& set, const json& tmpl, const std::string& revision, long ordinal) {
    const std::string name = set["metadata"].value("name", "");
    const std::string pod_name = name + "-" + std::to_string(ordinal);
    json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}};
    pod["metadata"] = tmpl.value("metadata", json::object());
    pod["metadata"].erase("generateName");
    pod["metadata"]["name"] = pod_name;
    pod["metadata"]["labels"][kRevisionLabel] = revision;
    pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] = pod_name;
    pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"] = std::to_string(ordinal);
    pod["metadata"]["ownerReferences"] =
        json::array({ControllerRef(set, "apps/v1", "StatefulSet")});
    pod["spec"] = tmpl.value("spec", json::object());
    pod["spec"]["hostname"] = pod_name;
    if (set["spec"].contains("serviceName")) pod["spec"]["subdomain"] = set["spec"]["serviceName"];
    // Claims replace any template volume of the same name.
    json& volumes = pod["spec"]["volumes"];
    if (!volumes.is_array()) volumes = json::array();
    for (const auto& vct : set["spec"].value("volumeClaimTemplates", json::array())) {
      std::string vname = vct.value("metadata", json::object()).value("name", "");
      json kept = json::array();
      for (auto& v : volumes)
        if (v.value("name", "") != vname) kept.push_back(v);
      kept.push_back({{"name", vname},
                      {"persistentVolumeClaim", {{"claimName", ClaimName(vname, name, ordinal)}}}});
      volumes = kept;
    }
    if (volumes.empty()) pod["spec"].erase("volumes");
    return pod;
  }

  static std::string ClaimName(const std::string& tmpl, const std::string& set, long ordinal) {
    return tmpl + "-" + set + "-" + std::to_string(ordinal);
  }

  std::string RetentionPolicy(const json& set, const char* when) {
    return set["spec"]
        .value("persistentVolumeClaimRetentionPolicy", json::object())
        .value(when, "Retain");
  }

  void EnsureClaims(const json& set, long ordinal) {
    TypePtr pvc_type = cluster_.FindType("", "v1", "persistentvolumeclaims");
    if (!pvc_type) return;
    const std::string ns = set["metadata"].value("namespace", "");
    const std::string name = set["metadata"].value("name", "");
    WriteContext ctx;
    ctx.field_manager = kControllerManager;
    for (const auto& vct : set["spec"].value("volumeClaimTemplates", json::array())) {
      const json& vmd = vct.value("metadata", json::object());
      std::string claim = ClaimName(vmd.value("name", ""), name, ordinal);
      auto existing = cluster_.Get(*pvc_type, ns, claim);
      bool owned_by_set = RetentionPolicy(set, "whenDeleted") == "Delete";
      if (existing.ok()) {
        json next = existing.value();
        bool has = ControlledBy(next, set["metadata"].value("uid", ""));
        if (owned_by_set && !has) {
          next["metadata"]["ownerReferences"].push_back(
              ControllerRef(set, "apps/v1", "StatefulSet"));
          cluster_.Update(*pvc_type, ns, claim, next, ctx);
        }
        continue;
      }
      json pvc = {{"apiVersion", "v1"}, {"kind", "PersistentVolumeClaim"}};
      pvc["metadata"] = {{"name", claim}, {"namespace", ns}};
      json labels = vmd.value("labels", json::object());
      const json selector_labels =
          set["spec"].value("selector", json::object()).value("matchLabels", json::object());
      for (auto& [k, v] : selector_labels.items()) labels[k] = v;
      if (!labels.empty()) pvc["metadata"]["labels"] = labels;
      if (vmd.contains("annotations")) pvc["metadata"]["annotations"] = vmd["annotations"];
      if (owned_by_set)
        pvc["metadata"]["ownerReferences"] =
            json::array({ControllerRef(set, "apps/v1", "StatefulSet")});
      pvc["spec"] = vct.value("spec", json::object());
      if (!pvc["spec"].contains("volumeMode")) pvc["spec"]["volumeMode"] = "Filesystem";
      auto created = cluster_.Create(*pvc_type, ns, pvc, ctx);
      if (!created.ok()) continue;
      // No provisioner runs here: a claim is bound to a directory of the kubelet at once.
      json bound = created.value().object;
      bound["status"] = {{"phase", "Bound"},
                         {"accessModes", pvc["spec"].value("accessModes", json::array())}};
      json storage = pvc["spec"]
                         .value("resources", json::object())
                         .value("requests", json::object())
                         .value("storage", json());
      if (!storage.is_null()) bound["status"]["capacity"] = {{"storage", storage}};
      cluster_.Update(*pvc_type, ns, claim, bound, ctx, "status");
    }
  }

  // whenScaled: Delete hands the claims of a condemned ordinal to its pod.
  void ScaleDownClaims(const json& set, long ordinal, const json& pod) {
    if (RetentionPolicy(set, "whenScaled") != "Delete") return;
    TypePtr pvc_type = cluster_.FindType("", "v1", "persistentvolumeclaims");
    if (!pvc_type) return;
    const std::string ns = set["metadata"].value("namespace", "");
    WriteContext ctx;
    ctx.field_manager = kControllerManager;
    for (const auto& vct : set["spec"].value("volumeClaimTemplates", json::array())) {
      std::string claim = ClaimName(vct.value("metadata", json::object()).value("name", ""),
                                    set["metadata"].value("name", ""), ordinal);
      auto existing = cluster_.Get(*pvc_type, ns, claim);
      if (!existing.ok()) continue;
      json next = existing.value();
      json refs = json::array();
      for (const auto& r : next["metadata"].value("ownerReferences", json::array()))
        if (r.value("uid", "") != set["metadata"].value("uid", "")) refs.push_back(r);
      json ref = ControllerRef(pod, "v1", "Pod");
      ref["controller"] = false;
      refs.push_back(ref);
      next["metadata"]["ownerReferences"] = refs;
      cluster_.Update(*pvc_type, ns, claim, next, ctx);
    }
  }

  void UpdateStatus(const json& set, const std::map<long, json>& pods, long replicas,
                    std::string current_rev, const std::string& update_rev, long min_ready) {
    long count = 0, ready = 0, available = 0, current = 0, updated = 0;
    long long now = NowSeconds();
    for (const auto& [i, p] : pods) {
      if (i >= replicas && PodTerminating(p)) continue;
      ++count;
      if (RunningAndReady(p)) {
        ++ready;
        if (PodAvailable(p, min_ready, now)) ++available;
      }
      if (!PodTerminating(p)) {
        if (PodRevision(p) == current_rev) ++current;
        if (PodRevision(p) == update_rev) ++updated;
      }
    }
    const json& strategy = set["spec"].value("updateStrategy", json::object());
    if (strategy.value("type", "RollingUpdate") == "RollingUpdate" && updated == count &&
        ready == count && count == replicas) {
      current_rev = update_rev;
      current = updated;
    }
    json status = set.value("status", json::object());
    json old = status;
    status["observedGeneration"] = set["metadata"].value("generation", 1L);
    status["replicas"] = count;
    status["readyReplicas"] = ready;
    status["availableReplicas"] = available;
    status["currentReplicas"] = current;
    status["updatedReplicas"] = updated;
    status["currentRevision"] = current_rev;
    status["updateRevision"] = update_rev;
    if (!status.contains("collisionCount")) status["collisionCount"] = 0;
    if (status == old) return;
    json next = set;
    next["status"] = status;
    WriteContext ctx;
    ctx.field_manager = kControllerManager;
    cluster_.Update(*sts_type_, set["metadata"].value("namespace", ""),
                    set["metadata"].value("name", ""), next, ctx, "status");
  }

  TypePtr sts_type_, pod_type_;
};

}  // namespace

std::unique_ptr<Controller> NewStatefulSetController(Cluster& cluster) {
  return std::make_unique<StatefulSetController>(cluster);
}

}  // namespace shardwise::kubesim
