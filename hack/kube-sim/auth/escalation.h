// RBAC escalation prevention, as kube-apiserver enforces it: a caller outside
// system:masters may create or update a Role/ClusterRole only if it holds every
// permission the role grants (or may `escalate` roles), and a RoleBinding or
// ClusterRoleBinding only if it holds the permissions of the role it references, in the
// binding's scope (or may `bind` that role). PATCH requests are not checked.
#pragma once

#include "hack/kube-sim/auth/rbac.h"

namespace shardwise::kubesim {

// OK, or the 403 for `request` (its attributes) writing `body`.
ApiError CheckEscalation(RbacAuthorizer& authorizer, Cluster& cluster, const Attributes& request,
                         const json& body);

}  // namespace shardwise::kubesim
