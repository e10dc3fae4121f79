// The StatefulSet controller: keeps pods <name>-0 … <name>-(replicas-1) in existence,
// removes higher ordinals (highest first) and reports status. There is no kubelet yet,
// so pods stay Pending and OrderedReady would never get past ordinal 0: every ordinal is
// created at once, as with podManagementPolicy: Parallel.
#include <map>
#include <set>

#include "hack/kube-sim/controller.h"

namespace shardwise::kubesim {
namespace {

constexpr char kStatefulSets[] = "apps/statefulsets";
constexpr char kPods[] = "/pods";

bool PodReady(const json& pod) {
  const json& conds = pod.value("status", json::object()).value("conditions", json::array());
  for (const auto& c : conds)
    if (c.value("type", "") == "Ready" && c.value("status", "") == "True") return true;
  return false;
}

class StatefulSetController : public Controller {
 public:
  explicit StatefulSetController(Cluster& cluster) : cluster_(cluster) {}

  void OnEvent(const WatchEvent& e) override {
    const json& md = e.object.value("metadata", json::object());
    if (e.collection == kStatefulSets) {
      dirty_.insert({md.value("namespace", ""), md.value("name", "")});
    } else if (e.collection == kPods) {
      for (const auto& ref : md.value("ownerReferences", json::array()))
        if (ref.value("kind", "") == "StatefulSet" && ref.value("controller", false))
          dirty_.insert({md.value("namespace", ""), ref.value("name", "")});
    }
  }

  void Resync() override {
    if (!initial_scan_done_) {
      initial_scan_done_ = true;
      cluster_.store().Transact([&](ObjectStore::Txn& txn) {
        for (const json* s : txn.List(kStatefulSets, ""))
          dirty_.insert(
              {(*s)["metadata"].value("namespace", ""), (*s)["metadata"].value("name", "")});
        return 0;
      });
    }
    auto dirty = std::move(dirty_);
    dirty_.clear();
    for (const auto& [ns, name] : dirty) Reconcile(ns, name);
  }

 private:
  void Reconcile(const std::string& ns, const std::string& name) {
    TypePtr sts_type = cluster_.FindType("apps", "v1", "statefulsets");
    TypePtr pod_type = cluster_.FindType("", "v1", "pods");
    auto sts = cluster_.Get(*sts_type, ns, name);
    if (!sts.ok()) return;  // gone: the garbage collector removes its pods
    json& set = sts.value();
    if (set["metadata"].contains("deletionTimestamp")) return;
    long replicas = set["spec"].value("replicas", 1);
    ListOptions opts;
    std::vector<json> owned;
    auto pods = cluster_.List(*pod_type, ns, opts);
    if (!pods.ok()) return;
    const std::string uid = set["metadata"].value("uid", "");
    for (const auto& p : pods.value()["items"])
      for (const auto& ref : p["metadata"].value("ownerReferences", json::array()))
        if (ref.value("uid", "") == uid) owned.push_back(p);

    std::map<long, std::string> present;  // ordinal -> pod name; -1 for foreign names
    WriteContext ctx;
    ctx.field_manager = "kube-controller-manager";
    for (const auto& p : owned) {
      std::string pod_name = p["metadata"].value("name", "");
      long ordinal = -1;
      if (pod_name.rfind(name + "-", 0) == 0) {
        try {
          ordinal = std::stol(pod_name.substr(name.size() + 1));
        } catch (...) {
        }
      }
      if (ordinal < 0) {
        cluster_.Delete(*pod_type, ns, pod_name, DeleteOptions{});
        continue;
      }
      present[ordinal] = pod_name;
    }
    // Scale down: highest ordinals first.
    for (auto it = present.rbegin(); it != present.rend(); ++it) {
      if (it->first >= replicas) cluster_.Delete(*pod_type, ns, it->second, DeleteOptions{});
    }
    for (long i = 0; i < replicas; ++i) {
      if (present.count(i)) continue;
      cluster_.Create(*pod_type, ns, NewPod(set, i), ctx);
    }
    UpdateStatus(*sts_type, *pod_type, ns, name);
  }

  json NewPod(const json& set, long ordinal) {
    const std::string name = set["metadata"].value("name", "");
    const std::string pod_name = name + "-" + std::to_string(ordinal);
    json tmpl = set["spec"].value("template", json::object());
    json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}};
    pod["metadata"] = tmpl.value("metadata", json::object());
    pod["metadata"]["name"] = pod_name;
    pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] = pod_name;
    pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"] = std::to_string(ordinal);
    pod["metadata"]["ownerReferences"] = json::array({{{"apiVersion", "apps/v1"},
                                                       {"kind", "StatefulSet"},
                                                       {"name", name},
                                                       {"uid", set["metadata"].value("uid", "")},
                                                       {"controller", true},
                                                       {"blockOwnerDeletion", true}}});
    pod["spec"] = tmpl.value("spec", json::object());
    pod["spec"]["hostname"] = pod_name;
    if (set["spec"].contains("serviceName")) pod["spec"]["subdomain"] = set["spec"]["serviceName"];
    return pod;
  }

  void UpdateStatus(const ResourceType& sts_type, const ResourceType& pod_type,
                    const std::string& ns, const std::string& name) {
    auto sts = cluster_.Get(sts_type, ns, name);
    auto pods = cluster_.List(pod_type, ns, ListOptions{});
    if (!sts.ok() || !pods.ok()) return;
    json set = sts.value();
    const std::string uid = set["metadata"].value("uid", "");
    long count = 0, ready = 0;
    for (const auto& p : pods.value()["items"]) {
      bool mine = false;
      for (const auto& ref : p["metadata"].value("ownerReferences", json::array()))
        mine = mine || ref.value("uid", "") == uid;
      if (!mine) continue;
      ++count;
      ready += PodReady(p) ? 1 : 0;
    }
    json status = set.value("status", json::object());
    status["observedGeneration"] = set["metadata"].value("generation", 1);
    status["replicas"] = count;
    status["currentReplicas"] = count;
    status["updatedReplicas"] = count;
    status["readyReplicas"] = ready;
    status["availableReplicas"] = ready;
    if (status == set.value("status", json::object())) return;
    set["status"] = status;
    WriteContext ctx;
    ctx.field_manager = "kube-controller-manager";
    cluster_.Update(sts_type, ns, name, set, ctx, "status");
  }

  Cluster& cluster_;
  std::set<std::pair<std::string, std::string>> dirty_;
  bool initial_scan_done_ = false;
};

}  // namespace

std::unique_ptr<Controller> NewStatefulSetController(Cluster& cluster) {
  return std::make_unique<StatefulSetController>(cluster);
}

}  // namespace shardwise::kubesim
