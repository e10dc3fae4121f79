#include "operator/discovery/cache_trim.h"

namespace shardwise::opdiscovery {

using nlohmann::json;

namespace {

void KeepOnly(json& obj, std::initializer_list<const char*> keys) {
  if (!obj.is_object()) return;
  json kept = json::object();
  for (const char* k : keys) {
    if (auto it = obj.find(k); it != obj.end()) kept[k] = std::move(*it);
  }
  obj = std::move(kept);
}

void TrimContainers(json& list) {
  if (!list.is_array()) return;
  for (auto& c : list) KeepOnly(c, {"name", "image", "ports"});
}

}  // namespace

void TrimForDiscovery(json& object) {
  if (auto md = object.find("metadata"); md != object.end() && md->is_object()) {
    md->erase("managedFields");
    if (auto ann = md->find("annotations"); ann != md->end() && ann->is_object()) {
      ann->erase("kubectl.kubernetes.io/last-applied-configuration");
    }
  }
  // List items carry no kind; Endpoints are recognisable by their subsets. Their annotations
  // (endpoints.kubernetes.io/last-change-trigger-time, rewritten on every change) are not
  // read by the endpoints role.
  if (object.value("kind", "") == "Endpoints" || object.contains("subsets")) {
    if (auto md = object.find("metadata"); md != object.end() && md->is_object()) {
      md->erase("annotations");
    }
    return;
  }
  // A Pod is recognisable by its containers.
  bool is_pod =
      object.value("kind", "") == "Pod" || (object.contains("spec") && object["spec"].is_object() &&
                                            object["spec"].contains("containers"));
  if (!is_pod) return;
  if (auto spec = object.find("spec"); spec != object.end() && spec->is_object()) {
    KeepOnly(*spec, {"containers", "initContainers", "nodeName", "hostNetwork"});
    if (spec->contains("containers")) TrimContainers((*spec)["containers"]);
    if (spec->contains("initContainers")) TrimContainers((*spec)["initContainers"]);
  }
  if (auto st = object.find("status"); st != object.end() && st->is_object()) {
    KeepOnly(*st, {"phase", "podIP", "podIPs", "hostIP", "conditions", "containerStatuses",
                   "initContainerStatuses"});
    for (const char* k : {"containerStatuses", "initContainerStatuses"}) {
      if (st->contains(k) && (*st)[k].is_array()) {
        // `state` tells the pool controller at once that a scraper's container died.
        for (auto& cs : (*st)[k]) KeepOnly(cs, {"name", "ready", "containerID", "state"});
      }
    }
  }
}

}  // namespace shardwise::opdiscovery
