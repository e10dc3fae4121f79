// The Endpoints (core/v1) controller: for every Service with a selector, an Endpoints
// object of the same name whose subsets group the selected pods by resolved ports,
// Ready pods under addresses and the others under notReadyAddresses (all under
// addresses with publishNotReadyAddresses). Terminating pods are left out unless
// publishNotReadyAddresses is set. The Endpoints of a Service that is gone is deleted;
// Services without a selector keep hand-written Endpoints.
#include <algorithm>
#include <map>

#include "hack/kube-sim/reconciler.h"
#include "hack/kube-sim/service_endpoints.h"
#include "hack/kube-sim/workload.h"

namespace shardwise::kubesim {
namespace {

class EndpointsController : public ReconcileController {
 public:
  explicit EndpointsController(Cluster& cluster) : ReconcileController(cluster, "/services") {}

 protected:
  void Related(const WatchEvent& e) override {
    if (e.collection == "/pods")
      MarkNamespace(e.object.value("metadata", json::object()).value("namespace", ""));
  }

  void Reconcile(const std::string& ns, const std::string& name) override {
    TypePtr svc_type = cluster_.FindType("", "v1", "services");
    TypePtr ep_type = cluster_.FindType("", "v1", "endpoints");
    auto current = cluster_.Get(*ep_type, ns, name);
    auto svc_got = cluster_.Get(*svc_type, ns, name);
    if (!svc_got.ok()) {
      if (current.ok()) cluster_.Delete(*ep_type, ns, name, DeleteOptions{});
      return;
    }
    const json& svc = svc_got.value();
    if (svc["metadata"].contains("deletionTimestamp") || !ServiceHasSelector(svc)) return;
    bool publish_not_ready = svc["spec"].value("publishNotReadyAddresses", false);

    std::map<std::string, json> subsets;  // ports text -> subset
    for (const auto& pe :
         SelectEndpoints(svc, ListObjects(cluster_, "", "pods", ns), publish_not_ready)) {
      if (pe.ports.empty()) continue;
      const json& pmd = pe.pod["metadata"];
      json addr = {{"ip", pe.pod["status"]["podIP"]},
                   {"targetRef",
                    {{"kind", "Pod"},
                     {"namespace", ns},
                     {"name", pmd.value("name", "")},
                     {"uid", pmd.value("uid", "")}}}};
      const json& pspec = pe.pod.value("spec", json::object());
      if (!pspec.value("nodeName", "").empty()) addr["nodeName"] = pspec["nodeName"];
      if (!pspec.value("hostname", "").empty() && pspec.value("subdomain", "") == name)
        addr["hostname"] = pspec["hostname"];
      json ports = json::array();
      for (auto p : pe.ports) {
        if (p.value("name", "").empty()) p.erase("name");
        ports.push_back(std::move(p));
      }
      json& s = subsets[ports.dump()];
      if (s.is_null()) s = {{"ports", ports}};
      bool ready = publish_not_ready || pe.ready;
      s[ready ? "addresses" : "notReadyAddresses"].push_back(std::move(addr));
    }
    json subset_list = json::array();
    for (auto& [key, s] : subsets) {
      for (const char* k : {"addresses", "notReadyAddresses"}) {
        if (!s.contains(k)) continue;
        std::sort(s[k].begin(), s[k].end(), [](const json& a, const json& b) {
          return a.value("ip", "") < b.value("ip", "");
        });
      }
      subset_list.push_back(std::move(s));
    }

    json labels = svc["metadata"].value("labels", json::object());
    if (!labels.is_object()) labels = json::object();
    if (ServiceHeadless(svc)) labels["service.kubernetes.io/headless"] = "";
    json next = current.ok() ? current.value()
                             : json{{"apiVersion", "v1"},
                                    {"kind", "Endpoints"},
                                    {"metadata", {{"name", name}, {"namespace", ns}}}};
    if (labels.empty()) {
      next["metadata"].erase("labels");
    } else {
      next["metadata"]["labels"] = labels;
    }
    if (subset_list.empty()) {
      next.erase("subsets");
    } else {
      next["subsets"] = subset_list;
    }
    WriteContext ctx;
    ctx.field_manager = kControllerManager;
    if (!current.ok()) {
      cluster_.Create(*ep_type, ns, next, ctx);
    } else if (next != current.value()) {
      cluster_.Update(*ep_type, ns, name, next, ctx);
    }
  }
};

}  // namespace

std::unique_ptr<Controller> NewEndpointsController(Cluster& cluster) {
  return std::make_unique<EndpointsController>(cluster);
}

}  // namespace shardwise::kubesim
