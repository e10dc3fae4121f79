#include "hack/kube-sim/service_endpoints.h"

#include <algorithm>

#include "hack/kube-sim/workload.h"

namespace shardwise::kubesim {

bool ServiceHasSelector(const json& service) {
  const json& sel = service.value("spec", json::object()).value("selector", json());
  return sel.is_object() && !sel.empty();
}

bool ServiceHeadless(const json& service) {
  return service.value("spec", json::object()).value("clusterIP", "") == "None";
}

json ResolvePorts(const json& service, const json& pod) {
  json out = json::array();
  const json& ports = service.value("spec", json::object()).value("ports", json::array());
  if (!ports.is_array()) return out;
  for (const auto& sp : ports) {
    if (!sp.is_object()) continue;
    std::string protocol = sp.value("protocol", "TCP");
    json target = sp.contains("targetPort") ? sp["targetPort"] : sp.value("port", json());
    long number = 0;
    if (target.is_number_integer()) {
      number = target.get<long>();
    } else if (target.is_string()) {
      const std::string wanted = target.get<std::string>();
      const json& containers = pod.value("spec", json::object()).value("containers", json::array());
      for (const auto& c : containers) {
        for (const auto& cp : c.value("ports", json::array())) {
          if (cp.value("name", "") == wanted && cp.value("protocol", "TCP") == protocol) {
            number = cp.value("containerPort", 0L);
            break;
          }
        }
        if (number) break;
      }
      // A purely numeric string is a number too.
      if (!number && !wanted.empty() &&
          std::all_of(wanted.begin(), wanted.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        number = std::stol(wanted);
    }
    if (number <= 0) continue;
    json p = {{"name", sp.value("name", "")}, {"port", number}, {"protocol", protocol}};
    if (sp.contains("appProtocol")) p["appProtocol"] = sp["appProtocol"];
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<PodEndpoint> SelectEndpoints(const json& service, const std::vector<json>& pods,
                                         bool include_terminating) {
  std::vector<PodEndpoint> out;
  if (!ServiceHasSelector(service)) return out;
  auto sel = WorkloadSelector(json{{"matchLabels", service["spec"]["selector"]}});
  if (!sel) return out;
  for (const auto& pod : pods) {
    if (!sel->Matches(pod)) continue;
    if (pod.value("status", json::object()).value("podIP", "").empty()) continue;
    if (PodTerminal(pod)) continue;
    bool terminating = PodTerminating(pod);
    if (terminating && !include_terminating) continue;
    PodEndpoint e;
    e.pod = pod;
    e.ports = ResolvePorts(service, pod);
    e.ready = PodReady(pod);
    e.terminating = terminating;
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const PodEndpoint& a, const PodEndpoint& b) {
    return a.pod["metadata"].value("name", "") < b.pod["metadata"].value("name", "");
  });
  return out;
}

}  // namespace shardwise::kubesim
