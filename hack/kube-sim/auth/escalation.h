// RBAC escalation prevention, as kube-apiserver enforces it: a caller outside
// system:masters may create or update a Role/ClusterRole only if it holds every
// permission the role grants (or may `escalate` roles), and a RoleBinding or
// ClusterRoleBinding only if it holds the permissions of the role it references, in the
// binding's scope (or may `bind` that role). A PATCH (merge, JSON, strategic or apply) is
// checked on the object it would produce, so a patch cannot grant what an update could not.
#pragma once

#include "hack/kube-sim/auth/rbac.h"

namespace shardwise::kubesim {

// OK, or the 403 for `request` (its attributes) writing `body`.
ApiError CheckEscalation(RbacAuthorizer& authorizer, Cluster& cluster, const Attributes& request,
                         const json& body);

// The same for a PATCH of `patch_type` with body `patch`: the patch is applied to the
// current object (an apply patch of a missing object is its creation) and the result
// checked as an update.
ApiError CheckPatchEscalation(RbacAuthorizer& authorizer, Cluster& cluster,
                              const Attributes& request, PatchType patch_type, const json& patch);

}  // namespace shardwise::kubesim
