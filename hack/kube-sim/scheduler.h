// The scheduler: binds each pending pod (no spec.nodeName) to a simulated Node, as
// kube-scheduler's default filters would: the node is Ready and schedulable, matches the
// pod's nodeSelector, has room for the pod's resource requests (cpu, memory) and pod count
// against its allocatable, and satisfies required pod anti-affinity both ways (the pod's
// terms and the terms of pods already there) for any topologyKey. Among feasible nodes it
// picks the one with the fewest pods (ties: name order). A pod no node fits stays Pending
// with PodScheduled=False (reason Unschedulable) and a FailedScheduling Event
// "0/N nodes are available: ...", retried whenever pods or nodes change.
// Not emulated: node affinity expressions, inter-pod (positive) affinity, taints and
// tolerations, preferred terms, preemption, topology spread constraints.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hack/kube-sim/controller.h"

namespace shardwise::kubesim {

struct ScheduleDecision {
  std::string node;     // "" when no node fits
  std::string message;  // "0/3 nodes are available: ..." when none fits
};

// Picks a node for `pod` among `nodes` given the pods already bound (`bound`, each with
// spec.nodeName). Pure: used by the controller and unit tests.
ScheduleDecision SchedulePod(const json& pod, const std::vector<json>& nodes,
                             const std::vector<json>& bound);

std::unique_ptr<Controller> NewScheduler(Cluster& cluster);

}  // namespace shardwise::kubesim
