#include "hack/kube-sim/kubelet/events.h"

#include "hack/kube-sim/time_util.h"

namespace shardwise::kubesim {

void RecordPodEvent(Cluster& cluster, const json& pod, const std::string& type,
                    const std::string& reason, const std::string& message,
                    const std::string& component, const std::string& field_path) {
  TypePtr et = cluster.FindType("", "v1", "events");
  if (!et) return;
  const json& md = pod.value("metadata", json::object());
  std::string ns = md.value("namespace", "default");
  std::string now = NowRfc3339();
  json involved = {{"kind", "Pod"},
                   {"apiVersion", "v1"},
                   {"namespace", ns},
                   {"name", md.value("name", "")},
                   {"uid", md.value("uid", "")}};
  if (!field_path.empty()) involved["fieldPath"] = field_path;
  json ev = {{"metadata", {{"generateName", md.value("name", "") + "."}, {"namespace", ns}}},
             {"involvedObject", involved},
             {"reason", reason},
             {"message", message},
             {"type", type},
             {"source", {{"component", component}}},
             {"reportingComponent", component},
             {"firstTimestamp", now},
             {"lastTimestamp", now},
             {"count", 1}};
  WriteContext ctx;
  ctx.field_manager = component;
  cluster.Create(*et, ns, ev, ctx);
}

}  // namespace shardwise::kubesim
