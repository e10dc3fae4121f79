// Defaults kube-apiserver applies inside every pod spec, in pods and in the pod
// templates of workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob,
// ReplicationController, PodTemplate): container ports get protocol TCP.
#pragma once

#include "hack/kube-sim/resource_type.h"

namespace shardwise::kubesim {

// Applies the pod-spec defaults to `obj` of type `t` wherever it holds a pod spec.
void ApplyPodSpecDefaults(const ResourceType& t, json& obj);

}  // namespace shardwise::kubesim
