// Defaults kube-apiserver applies inside every pod spec, in pods and in the pod
// templates of workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob,
// ReplicationController, PodTemplate), as SetDefaults_PodSpec and friends do: container ports
// get protocol TCP; containers imagePullPolicy (Always for :latest or no tag), the
// termination message path and policy and empty resources; probes their timeout, period
// and thresholds, HTTP handlers path "/" and scheme HTTP; fieldRefs apiVersion v1; volumes
// their defaultMode 420 and token expirationSeconds 3600; the spec its restartPolicy,
// dnsPolicy, schedulerName, terminationGracePeriodSeconds and securityContext.
#pragma once

#include "hack/kube-sim/resource_type.h"

namespace shardwise::kubesim {

// Applies the pod-spec defaults to `obj` of type `t` wherever it holds a pod spec.
void ApplyPodSpecDefaults(const ResourceType& t, json& obj);

}  // namespace shardwise::kubesim
