// The DaemonSet controller: one pod per Node that the template's nodeSelector admits
// (cordoned nodes included, as the real DaemonSet pods tolerate that), pinned to its
// node through a required node affinity on metadata.name, as the real controller does,
// and through spec.nodeName so no scheduler is needed. Extra pods, pods on nodes that no
// longer qualify and Failed pods are deleted (and recreated where they belong). The
// template is recorded as a ControllerRevision; pods carry controller-revision-hash.
// RollingUpdate replaces old pods at most maxUnavailable (default 1) at a time, the
// unavailable ones first. Status counts what `kubectl rollout status ds/x` reads.
#include <algorithm>
#include <map>

#include "hack/kube-sim/reconciler.h"
#include "hack/kube-sim/time_util.h"
#include "hack/kube-sim/workload.h"

namespace shardwise::kubesim {
namespace {

constexpr char kHashLabel[] = "controller-revision-hash";

std::string PinnedNode(const json& pod) {
  std::string node = pod.value("spec", json::object()).value("nodeName", "");
  if (!node.empty()) return node;
  const json& terms = pod.value("spec", json::object())
                          .value("affinity", json::object())
                          .value("nodeAffinity", json::object())
                          .value("requiredDuringSchedulingIgnoredDuringExecution", json::object())
                          .value("nodeSelectorTerms", json::array());
  for (const auto& t : terms)
    for (const auto& f : t.value("matchFields", json::array()))
      if (f.value("key", "") == "metadata.name" && f.value("values", json::array()).size() == 1)
        return f["values"][0].get<std::string>();
  return "";
}

bool NodeQualifies(const json& node, const json& tmpl_spec) {
  const json& sel = tmpl_spec.value("nodeSelector", json::object());
  const json& labels = node["metadata"].value("labels", json::object());
  if (sel.is_object())
    for (auto& [k, v] : sel.items())
      if (!labels.is_object() || !labels.contains(k) || labels[k] != v) return false;
  return true;
}

class DaemonSetController : public ReconcileController {
 public:
  explicit DaemonSetController(Cluster& cluster)
      : ReconcileController(cluster, "apps/daemonsets") {}

 protected:
  void Related(const WatchEvent& e) override {
    // Node changes reach every DaemonSet through the periodic full resync.
    if (e.collection == "/pods") MarkOwner(e.object, "DaemonSet");
  }

  void Reconcile(const std::string& ns, const std::string& name) override {
    TypePtr ds_type = cluster_.FindType("apps", "v1", "daemonsets");
    TypePtr pod_type = cluster_.FindType("", "v1", "pods");
    auto got = cluster_.Get(*ds_type, ns, name);
    if (!got.ok()) return;
    json ds = std::move(got).value();
    if (ds["metadata"].contains("deletionTimestamp") || !ds["spec"].is_object()) return;
    const json& spec = ds["spec"];
    const json tmpl = spec.value("template", json::object());
    const json& tmpl_spec = tmpl.value("spec", json::object());
    const long min_ready = spec.value("minReadySeconds", 0L);
    Revisions revs = SyncControllerRevisions(cluster_, ds, "DaemonSet", TemplatePatch(tmpl));
    if (revs.update.is_null()) return;
    const std::string hash = revs.update["metadata"]
                                 .value("labels", json::object())
                                 .value("controller.kubernetes.io/hash", "");

    std::map<std::string, bool> nodes;  // name -> should run
    for (const auto& n : ListObjects(cluster_, "", "nodes", ""))
      nodes[n["metadata"].value("name", "")] = NodeQualifies(n, tmpl_spec);

    const std::string uid = ds["metadata"].value("uid", "");
    std::map<std::string, std::vector<json>> by_node;
    WriteContext ctx;
    ctx.field_manager = kControllerManager;
    // The Events kube-controller-manager's daemonset controller records for its pods.
    auto delete_pod = [&](const json& p) {
      const std::string pod_name = p["metadata"].value("name", "");
      if (cluster_.Delete(*pod_type, ns, pod_name, DeleteOptions{}).ok())
        RecordEvent(cluster_, ds, "Normal", "SuccessfulDelete", "Deleted pod: " + pod_name,
                    "daemonset-controller");
    };
    for (auto& p : ListObjects(cluster_, "", "pods", ns)) {
      if (!ControlledBy(p, uid)) continue;
      std::string node = PinnedNode(p);
      auto it = nodes.find(node);
      if (it == nodes.end() || !it->second || PodTerminal(p)) {
        if (!PodTerminating(p)) delete_pod(p);
        continue;
      }
      by_node[node].push_back(std::move(p));
    }

    long desired = 0, scheduled = 0, ready = 0, available = 0, updated = 0, unavailable_old = 0;
    long long now = NowSeconds();
    std::vector<json> old_pods;
    for (const auto& [node, should] : nodes) {
      if (!should) continue;
      ++desired;
      auto& pods = by_node[node];
      std::vector<json> live;
      for (auto& p : pods)
        if (!PodTerminating(p)) live.push_back(p);
      if (live.empty()) {
        if (pods.empty()) {
          auto c = cluster_.Create(*pod_type, ns, NewPod(ds, tmpl, hash, node), ctx);
          if (c.ok()) {
            ++scheduled;
            RecordEvent(cluster_, ds, "Normal", "SuccessfulCreate",
                        "Created pod: " + c.value().object["metadata"].value("name", ""),
                        "daemonset-controller");
          } else {
            RecordEvent(cluster_, ds, "Warning", "FailedCreate",
                        "Error creating: " + c.error().message(), "daemonset-controller");
          }
        }
        continue;
      }
      std::sort(live.begin(), live.end(), [](const json& a, const json& b) {
        return a["metadata"].value("creationTimestamp", "") <
               b["metadata"].value("creationTimestamp", "");
      });
      for (size_t i = 1; i < live.size(); ++i) delete_pod(live[i]);
      const json& pod = live[0];
      ++scheduled;
      bool is_ready = PodReady(pod);
      bool is_available = PodAvailable(pod, min_ready, now);
      if (is_ready) ++ready;
      if (is_available) ++available;
      bool current = pod["metadata"].value("labels", json::object()).value(kHashLabel, "") == hash;
      if (current) {
        ++updated;
      } else {
        old_pods.push_back(pod);
        if (!is_available) ++unavailable_old;
      }
    }

    const json& strategy = spec.value("updateStrategy", json::object());
    if (strategy.value("type", "RollingUpdate") == "RollingUpdate" && !old_pods.empty()) {
      long max_unavailable = IntOrPercent(
          strategy.value("rollingUpdate", json::object()).value("maxUnavailable", json(1)), desired,
          true, 1);
      if (max_unavailable < 1) max_unavailable = 1;
      long unavailable = desired - available;
      long budget = max_unavailable - (unavailable - unavailable_old);
      std::stable_sort(old_pods.begin(), old_pods.end(), [&](const json& a, const json& b) {
        return PodAvailable(a, min_ready, now) < PodAvailable(b, min_ready, now);
      });
      for (const auto& p : old_pods) {
        if (budget <= 0) break;
        delete_pod(p);
        --budget;
      }
    }

    long misscheduled = 0;
    for (const auto& [node, pods] : by_node)
      if (!nodes.count(node) || !nodes[node]) misscheduled += static_cast<long>(pods.size());
    json status = ds.value("status", json::object());
    json old = status;
    status["observedGeneration"] = ds["metadata"].value("generation", 1L);
    status["desiredNumberScheduled"] = desired;
    status["currentNumberScheduled"] = scheduled;
    status["numberMisscheduled"] = misscheduled;
    status["numberReady"] = ready;
    status["numberAvailable"] = available;
    status["numberUnavailable"] = std::max(0L, desired - available);
    status["updatedNumberScheduled"] = updated;
    if (status != old) {
      json next = ds;
      next["status"] = status;
      cluster_.Update(*ds_type, ns, name, next, ctx, "status");
    }
    TrimControllerRevisions(cluster_, revs.all, spec.value("revisionHistoryLimit", 10L),
                            {revs.update["metadata"].value("name", "")});
  }

 private:
  json NewPod(const json& ds, const json& tmpl, const std::string& hash, const std::string& node) {
    json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}};
    pod["metadata"] = tmpl.value("metadata", json::object());
    pod["metadata"].erase("name");
    pod["metadata"]["generateName"] = ds["metadata"].value("name", "") + "-";
    pod["metadata"]["labels"][kHashLabel] = hash;
    pod["metadata"]["labels"]["pod-template-generation"] =
        std::to_string(ds["metadata"].value("generation", 1L));
    pod["metadata"]["ownerReferences"] = json::array({ControllerRef(ds, "apps/v1", "DaemonSet")});
    pod["spec"] = tmpl.value("spec", json::object());
    json term = {{"matchFields", json::array({{{"key", "metadata.name"},
                                               {"operator", "In"},
                                               {"values", json::array({node})}}})}};
    pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
        {"nodeSelectorTerms", json::array({term})}};
    pod["spec"]["nodeName"] = node;
    json& tol = pod["spec"]["tolerations"];
    if (!tol.is_array()) tol = json::array();
    for (const char* key : {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"})
      tol.push_back({{"key", key}, {"operator", "Exists"}, {"effect", "NoExecute"}});
    for (const char* key :
         {"node.kubernetes.io/disk-pressure", "node.kubernetes.io/memory-pressure",
          "node.kubernetes.io/pid-pressure", "node.kubernetes.io/unschedulable"})
      tol.push_back({{"key", key}, {"operator", "Exists"}, {"effect", "NoSchedule"}});
    return pod;
  }
};

}  // namespace

std::unique_ptr<Controller> NewDaemonSetController(Cluster& cluster) {
  return std::make_unique<DaemonSetController>(cluster);
}

}  // namespace shardwise::kubesim
