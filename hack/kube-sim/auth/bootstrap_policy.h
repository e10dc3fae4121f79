// The default RBAC objects kube-apiserver creates at start (the subset that matters
// here): cluster-admin; system:discovery, system:basic-user and
// system:public-info-viewer with their bindings; the aggregated admin/edit/view roles
// fed by system:aggregate-to-{admin,edit,view}; system:auth-delegator; and the Role
// kube-system/extension-apiserver-authentication-reader.
#pragma once

#include "hack/kube-sim/cluster.h"

namespace shardwise::kubesim {

// Creates the missing ones (existing objects are left as the user changed them).
void EnsureBootstrapPolicy(Cluster& cluster);

}  // namespace shardwise::kubesim
