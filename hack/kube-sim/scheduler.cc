#include "hack/kube-sim/scheduler.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "common/json_field.h"
#include "common/quantity.h"
#include "hack/kube-sim/kubelet/events.h"
#include "hack/kube-sim/time_util.h"

namespace shardwise::kubesim {
namespace {

std::string Str(const json& v) { return v.is_string() ? v.get<std::string>() : ""; }

double Quantity(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (!v.is_string()) return 0;
  auto q = ParseQuantity(v.get<std::string>());
  return q.ok() ? static_cast<double>(q->milli) / 1000 : 0;
}

// Sum of container requests (requests default to limits, as the apiserver defaults them),
// or the largest init container request if that is more.
double Request(const json& pod, const char* resource) {
  auto of = [&](const json& c) {
    const json& res = c.value("resources", json::object());
    const json& req = JsonField(res, {"requests", resource});
    if (!req.is_null()) return Quantity(req);
    return Quantity(JsonField(res, {"limits", resource}));
  };
  double sum = 0, init = 0;
  for (const auto& c : JsonField(pod, {"spec", "containers"}).is_array()
                           ? JsonField(pod, {"spec", "containers"})
                           : json::array())
    sum += of(c);
  const json& inits = JsonField(pod, {"spec", "initContainers"});
  if (inits.is_array())
    for (const auto& c : inits) init = std::max(init, of(c));
  return std::max(sum, init);
}

bool NodeReady(const json& node) {
  const json& conds = JsonField(node, {"status", "conditions"});
  if (!conds.is_array()) return false;
  for (const auto& c : conds)
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  return false;
}

std::string Label(const json& obj, const std::string& key) {
  const json& labels = JsonField(obj, {"metadata", "labels"});
  if (!labels.is_object()) return "";
  auto it = labels.find(key);
  return it != labels.end() && it->is_string() ? it->get<std::string>() : "";
}

bool HasLabel(const json& obj, const std::string& key) {
  const json& labels = JsonField(obj, {"metadata", "labels"});
  return labels.is_object() && labels.contains(key);
}

bool Terminal(const json& pod) {
  std::string phase = Str(JsonField(pod, {"status", "phase"}));
  return phase == "Succeeded" || phase == "Failed";
}

std::vector<json> AntiAffinityTerms(const json& pod) {
  const json& terms = JsonField(pod, {"spec", "affinity", "podAntiAffinity",
                                      "requiredDuringSchedulingIgnoredDuringExecution"});
  std::vector<json> out;
  if (terms.is_array())
    for (const auto& t : terms)
      if (t.is_object()) out.push_back(t);
  return out;
}

// Does `term` (owned by a pod in `owner_ns`) select `other`?
bool TermSelects(const json& term, const std::string& owner_ns, const json& other) {
  std::string other_ns = Str(JsonField(other, {"metadata", "namespace"}));
  const json& namespaces = term.value("namespaces", json::array());
  bool ns_ok = false;
  if (namespaces.is_array() && !namespaces.empty()) {
    for (const auto& n : namespaces) ns_ok = ns_ok || Str(n) == other_ns;
  } else if (term.contains("namespaceSelector") && term["namespaceSelector"].is_object()) {
    ns_ok = true;  // namespace labels are not consulted: {} selects every namespace
  } else {
    ns_ok = other_ns == owner_ns;
  }
  if (!ns_ok) return false;
  if (!term.contains("labelSelector")) return false;  // a null selector selects nothing
  return Selector::FromLabelSelector(term["labelSelector"]).Matches(other);
}

const json* NodeByName(const std::vector<json>& nodes, const std::string& name) {
  for (const auto& n : nodes)
    if (Str(JsonField(n, {"metadata", "name"})) == name) return &n;
  return nullptr;
}

}  // namespace

ScheduleDecision SchedulePod(const json& pod, const std::vector<json>& nodes,
                             const std::vector<json>& bound) {
  const std::string ns = Str(JsonField(pod, {"metadata", "namespace"}));
  const json& selector = JsonField(pod, {"spec", "nodeSelector"});
  const double cpu = Request(pod, "cpu"), memory = Request(pod, "memory");
  const auto terms = AntiAffinityTerms(pod);

  std::map<std::string, int> reasons;  // reason -> node count
  std::string best;
  size_t best_pods = 0;
  for (const auto& node : nodes) {
    const std::string name = Str(JsonField(node, {"metadata", "name"}));
    std::vector<std::string> why;
    if (!NodeReady(node)) {
      why.push_back("node(s) were not ready");
    } else if (JsonField(node, {"spec", "unschedulable"}) == json(true)) {
      why.push_back("node(s) were unschedulable");
    }
    if (why.empty() && selector.is_object()) {
      for (auto& [k, v] : selector.items()) {
        if (!HasLabel(node, k) || Label(node, k) != Str(v)) {
          why.push_back("node(s) didn't match Pod's node affinity/selector");
          break;
        }
      }
    }
    std::vector<const json*> here;
    double used_cpu = 0, used_mem = 0;
    for (const auto& b : bound) {
      if (Terminal(b) || Str(JsonField(b, {"spec", "nodeName"})) != name) continue;
      here.push_back(&b);
      used_cpu += Request(b, "cpu");
      used_mem += Request(b, "memory");
    }
    if (why.empty()) {
      const json& alloc = JsonField(node, {"status", "allocatable"});
      double max_pods = Quantity(alloc.value("pods", json("110")));
      if (cpu > 0 && used_cpu + cpu > Quantity(alloc.value("cpu", json("0"))) + 1e-9)
        why.push_back("Insufficient cpu");
      if (memory > 0 && used_mem + memory > Quantity(alloc.value("memory", json("0"))) + 0.5)
        why.push_back("Insufficient memory");
      if (static_cast<double>(here.size()) + 1 > max_pods) why.push_back("Too many pods");
    }
    if (why.empty()) {
      bool conflict = false;
      for (const auto& other : bound) {
        if (Terminal(other)) continue;
        const json* other_node = NodeByName(nodes, Str(JsonField(other, {"spec", "nodeName"})));
        if (!other_node) continue;
        // The incoming pod's terms against pods already placed.
        for (const auto& t : terms) {
          std::string key = t.value("topologyKey", "");
          if (key.empty() || !HasLabel(node, key) || !HasLabel(*other_node, key)) continue;
          if (Label(node, key) == Label(*other_node, key) && TermSelects(t, ns, other))
            conflict = true;
        }
        // Placed pods' terms against the incoming pod.
        std::string other_ns = Str(JsonField(other, {"metadata", "namespace"}));
        for (const auto& t : AntiAffinityTerms(other)) {
          std::string key = t.value("topologyKey", "");
          if (key.empty() || !HasLabel(node, key) || !HasLabel(*other_node, key)) continue;
          if (Label(node, key) == Label(*other_node, key) && TermSelects(t, other_ns, pod))
            conflict = true;
        }
        if (conflict) break;
      }
      if (conflict) why.push_back("node(s) didn't match pod anti-affinity rules");
    }
    if (why.empty()) {
      if (best.empty() || here.size() < best_pods) {
        best = name;
        best_pods = here.size();
      }
      continue;
    }
    for (const auto& w : why) reasons[w]++;
  }
  if (!best.empty()) return {best, ""};
  std::string n = std::to_string(nodes.size());
  std::string msg = "0/" + n + " nodes are available";
  if (!reasons.empty()) {
    msg += ": ";
    bool first = true;
    for (const auto& [reason, count] : reasons) {
      msg += (first ? "" : ", ") + std::to_string(count) + " " + reason;
      first = false;
    }
  }
  msg += ". preemption: 0/" + n + " nodes are available: " + n +
         " Preemption is not helpful for scheduling.";
  return {"", msg};
}

namespace {

class Scheduler : public Controller {
 public:
  explicit Scheduler(Cluster& cluster) : cluster_(cluster) {}

  void OnEvent(const WatchEvent& e) override {
    if (e.collection == "/pods" || e.collection == "/nodes") dirty_ = true;
  }

  void Resync() override {
    if (!dirty_ && ++idle_ < 25) return;  // retry unschedulable pods every ~5 s anyway
    dirty_ = false;
    idle_ = 0;
    std::vector<json> nodes, pods;
    cluster_.store().Transact([&](ObjectStore::Txn& txn) {
      for (const json* n : txn.List("/nodes", "")) nodes.push_back(*n);
      for (const json* p : txn.List("/pods", "")) pods.push_back(*p);
      return 0;
    });
    if (nodes.empty()) return;
    std::vector<json> bound;
    std::vector<json> pending;
    for (auto& p : pods) {
      if (!Str(JsonField(p, {"spec", "nodeName"})).empty()) {
        bound.push_back(p);
      } else if (JsonField(p, {"metadata", "deletionTimestamp"}).is_null() && !Terminal(p)) {
        std::string sched = Str(JsonField(p, {"spec", "schedulerName"}));
        if (sched.empty() || sched == "default-scheduler") pending.push_back(p);
      }
    }
    // Oldest first, as the scheduling queue does for equal priorities.
    std::stable_sort(pending.begin(), pending.end(), [](const json& a, const json& b) {
      return Str(JsonField(a, {"metadata", "creationTimestamp"})) <
             Str(JsonField(b, {"metadata", "creationTimestamp"}));
    });
    for (auto& p : pending) {
      ScheduleDecision d;
      try {
        d = SchedulePod(p, nodes, bound);
      } catch (const std::exception& e) {
        d.message = std::string("0/") + std::to_string(nodes.size()) +
                    " nodes are available: the pod spec could not be evaluated: " + e.what();
      }
      if (!d.node.empty()) {
        if (Bind(p, d.node)) {
          p["spec"]["nodeName"] = d.node;
          bound.push_back(p);
        }
      } else {
        MarkUnschedulable(p, d.message);
      }
    }
  }

 private:
  TypePtr PodType() { return cluster_.FindType("", "v1", "pods"); }

  bool Bind(const json& pod, const std::string& node) {
    const std::string ns = Str(JsonField(pod, {"metadata", "namespace"}));
    const std::string name = Str(JsonField(pod, {"metadata", "name"}));
    WriteContext ctx;
    ctx.field_manager = "kube-scheduler";
    json patch = {{"metadata", {{"uid", JsonField(pod, {"metadata", "uid"})}}},
                  {"spec", {{"nodeName", node}}}};
    auto r = cluster_.Patch(*PodType(), ns, name, PatchType::kMerge, patch, ctx);
    if (!r.ok()) return false;
    json obj = r.value().object;
    json status = obj.value("status", json::object());
    SetCondition(status, "PodScheduled", "True", "", "");
    obj["status"] = status;
    obj["metadata"].erase("resourceVersion");
    cluster_.Update(*PodType(), ns, name, obj, ctx, "status");
    Event(pod, "Normal", "Scheduled", "Successfully assigned " + ns + "/" + name + " to " + node);
    unschedulable_.erase(Str(JsonField(pod, {"metadata", "uid"})));
    return true;
  }

  void MarkUnschedulable(const json& pod, const std::string& message) {
    const std::string uid = Str(JsonField(pod, {"metadata", "uid"}));
    auto& last = unschedulable_[uid];
    if (last == message) return;  // reported already
    last = message;
    const std::string ns = Str(JsonField(pod, {"metadata", "namespace"}));
    const std::string name = Str(JsonField(pod, {"metadata", "name"}));
    json obj = pod;
    json status = obj.value("status", json::object());
    status["phase"] = "Pending";
    SetCondition(status, "PodScheduled", "False", "Unschedulable", message);
    obj["status"] = status;
    obj["metadata"].erase("resourceVersion");
    WriteContext ctx;
    ctx.field_manager = "kube-scheduler";
    cluster_.Update(*PodType(), ns, name, obj, ctx, "status");
    Event(pod, "Warning", "FailedScheduling", message);
  }

  static void SetCondition(json& status, const std::string& type, const std::string& value,
                           const std::string& reason, const std::string& message) {
    json conds = status.value("conditions", json::array());
    json c = {{"type", type},
              {"status", value},
              {"lastProbeTime", nullptr},
              {"lastTransitionTime", NowRfc3339()}};
    if (!reason.empty()) c["reason"] = reason;
    if (!message.empty()) c["message"] = message;
    bool found = false;
    for (auto& old : conds) {
      if (old.value("type", "") != type) continue;
      found = true;
      if (old.value("status", "") == value) c["lastTransitionTime"] = old["lastTransitionTime"];
      old = c;
    }
    if (!found) conds.push_back(c);
    status["conditions"] = conds;
  }

  void Event(const json& pod, const std::string& type, const std::string& reason,
             const std::string& message) {
    RecordPodEvent(cluster_, pod, type, reason, message, "default-scheduler");
  }

  Cluster& cluster_;
  bool dirty_ = true;
  int idle_ = 0;
  std::map<std::string, std::string> unschedulable_;  // pod uid -> last reported message
};

}  // namespace

std::unique_ptr<Controller> NewScheduler(Cluster& cluster) {
  return std::make_unique<Scheduler>(cluster);
}

}  // namespace shardwise::kubesim
