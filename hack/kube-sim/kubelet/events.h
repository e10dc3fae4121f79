// Events about pods from the scheduler and the kubelet (core/v1 Events, so that
// `kubectl describe pod` and `kubectl get events` show them). Never put a secret in one.
#pragma once

#include <string>

#include "hack/kube-sim/cluster.h"

namespace shardwise::kubesim {

void RecordPodEvent(Cluster& cluster, const json& pod, const std::string& type,
                    const std::string& reason, const std::string& message,
                    const std::string& component, const std::string& field_path = "");

}  // namespace shardwise::kubesim
