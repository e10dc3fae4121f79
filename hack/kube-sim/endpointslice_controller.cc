// The EndpointSlice controller: for every Service with a selector, discovery.k8s.io/v1
// EndpointSlices labelled kubernetes.io/service-name and
// endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io, owned by the
// Service, one per distinct set of resolved ports. Each endpoint is a pod with an IP:
// addresses [podIP], conditions ready (Ready and not terminating, or
// publishNotReadyAddresses), serving (Ready, or publishNotReadyAddresses) and
// terminating, targetRef, nodeName, zone (the Node's topology.kubernetes.io/zone) and,
// for a pod whose subdomain is the Service, its hostname. A Service with no endpoints
// keeps one empty slice. Slices without the managed-by label are left alone.
#include <algorithm>
#include <map>

#include "hack/kube-sim/reconciler.h"
#include "hack/kube-sim/service_endpoints.h"
#include "hack/kube-sim/workload.h"

namespace shardwise::kubesim {
namespace {

constexpr char kServiceName[] = "kubernetes.io/service-name";
constexpr char kManagedBy[] = "endpointslice.kubernetes.io/managed-by";
constexpr char kManager[] = "endpointslice-controller.k8s.io";

class EndpointSliceController : public ReconcileController {
 public:
  explicit EndpointSliceController(Cluster& cluster) : ReconcileController(cluster, "/services") {}

 protected:
  void Related(const WatchEvent& e) override {
    const json& md = e.object.value("metadata", json::object());
    if (e.collection == "/pods") {
      MarkNamespace(md.value("namespace", ""));
    } else if (e.collection == "discovery.k8s.io/endpointslices") {
      const json& labels = md.value("labels", json::object());
      if (labels.is_object() && labels.value(kManagedBy, "") == kManager)
        Mark(md.value("namespace", ""), labels.value(kServiceName, ""));
    }
  }

  void Reconcile(const std::string& ns, const std::string& name) override {
    TypePtr svc_type = cluster_.FindType("", "v1", "services");
    TypePtr slice_type = cluster_.FindType("discovery.k8s.io", "v1", "endpointslices");
    auto got = cluster_.Get(*svc_type, ns, name);
    if (!got.ok()) return;  // the garbage collector removes owned slices
    const json& svc = got.value();
    if (svc["metadata"].contains("deletionTimestamp") || !ServiceHasSelector(svc)) return;
    bool publish_not_ready = svc["spec"].value("publishNotReadyAddresses", false);

    std::map<std::string, std::string> zones;  // node -> zone
    for (const auto& n : ListObjects(cluster_, "", "nodes", ""))
      zones[n["metadata"].value("name", "")] =
          n["metadata"].value("labels", json::object()).value("topology.kubernetes.io/zone", "");

    // Desired endpoints, grouped by resolved ports (the JSON text is the key).
    std::map<std::string, json> groups;
    for (const auto& pe : SelectEndpoints(svc, ListObjects(cluster_, "", "pods", ns), true)) {
      const json& pod = pe.pod;
      const json& pmd = pod["metadata"];
      bool serving = publish_not_ready || pe.ready;
      bool ready = publish_not_ready || (serving && !pe.terminating);
      json ep = {
          {"addresses", json::array({pod["status"]["podIP"]})},
          {"conditions", {{"ready", ready}, {"serving", serving}, {"terminating", pe.terminating}}},
          {"targetRef",
           {{"kind", "Pod"},
            {"namespace", ns},
            {"name", pmd.value("name", "")},
            {"uid", pmd.value("uid", "")}}}};
      const json& pspec = pod.value("spec", json::object());
      if (!pspec.value("hostname", "").empty() && pspec.value("subdomain", "") == name)
        ep["hostname"] = pspec["hostname"];
      std::string node = pspec.value("nodeName", "");
      if (!node.empty()) {
        ep["nodeName"] = node;
        if (!zones[node].empty()) ep["zone"] = zones[node];
      }
      json& g = groups[pe.ports.dump()];
      if (g.is_null()) g = json::array();
      g.push_back(std::move(ep));
    }

    json labels = svc["metadata"].value("labels", json::object());
    if (!labels.is_object()) labels = json::object();
    labels[kServiceName] = name;
    labels[kManagedBy] = kManager;
    if (ServiceHeadless(svc)) labels["service.kubernetes.io/headless"] = "";
    json owner = json::array({ControllerRef(svc, "v1", "Service")});

    std::vector<json> existing;
    for (auto& s : ListObjects(cluster_, "discovery.k8s.io", "endpointslices", ns)) {
      const json& l = s["metadata"].value("labels", json::object());
      if (l.is_object() && l.value(kServiceName, "") == name && l.value(kManagedBy, "") == kManager)
        existing.push_back(std::move(s));
    }
    if (groups.empty()) groups["null"] = json::array();  // the placeholder slice

    WriteContext ctx;
    ctx.field_manager = kControllerManager;
    std::vector<bool> used(existing.size(), false);
    std::vector<std::pair<json, json>> unmatched;  // ports, endpoints
    for (auto& [ports_text, endpoints] : groups) {
      json ports = json::parse(ports_text);
      bool matched = false;
      for (size_t i = 0; i < existing.size() && !matched; ++i) {
        if (used[i] || existing[i].value("ports", json()) != ports) continue;
        used[i] = matched = true;
        Write(*slice_type, ns, existing[i], labels, owner, ports, endpoints, ctx);
      }
      if (!matched) unmatched.emplace_back(std::move(ports), endpoints);
    }
    for (auto& [ports, endpoints] : unmatched) {
      size_t i = 0;
      while (i < existing.size() && used[i]) ++i;
      if (i < existing.size()) {
        used[i] = true;
        Write(*slice_type, ns, existing[i], labels, owner, ports, endpoints, ctx);
        continue;
      }
      json slice = {{"apiVersion", "discovery.k8s.io/v1"},
                    {"kind", "EndpointSlice"},
                    {"metadata", {{"generateName", name + "-"}, {"namespace", ns}}},
                    {"addressType", "IPv4"}};
      Write(*slice_type, ns, slice, labels, owner, ports, endpoints, ctx, true);
    }
    for (size_t i = 0; i < existing.size(); ++i)
      if (!used[i])
        cluster_.Delete(*slice_type, ns, existing[i]["metadata"].value("name", ""),
                        DeleteOptions{});
  }

 private:
  void Write(const ResourceType& t, const std::string& ns, const json& current, const json& labels,
             const json& owner, const json& ports, const json& endpoints, WriteContext& ctx,
             bool create = false) {
    json next = current;
    next["metadata"]["labels"] = labels;
    next["metadata"]["ownerReferences"] = owner;
    next["addressType"] = "IPv4";
    next["endpoints"] = endpoints;
    if (ports.is_null()) {
      next.erase("ports");
    } else {
      next["ports"] = ports;
    }
    if (create) {
      cluster_.Create(t, ns, next, ctx);
    } else if (next != current) {
      cluster_.Update(t, ns, current["metadata"].value("name", ""), next, ctx);
    }
  }
};

}  // namespace

std::unique_ptr<Controller> NewEndpointSliceController(Cluster& cluster) {
  return std::make_unique<EndpointSliceController>(cluster);
}

}  // namespace shardwise::kubesim
