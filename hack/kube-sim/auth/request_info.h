// RequestAttributes: what an HTTP request asks for, in RBAC terms, as kube-apiserver's
// RequestInfoFactory derives it: resource requests (/api/v1/..., /apis/G/V/...) get a
// verb (get/list/watch/create/update/patch/delete/deletecollection), API group,
// resource, subresource, namespace and name; everything else (discovery documents,
// /healthz, /metrics, /openapi/...) is a non-resource request whose verb is the
// lower-cased HTTP method ("get" for HEAD).
#pragma once

#include "common/http/message.h"
#include "hack/kube-sim/auth/rbac.h"

namespace shardwise::kubesim {

Attributes RequestAttributes(const http::Request& req, const UserInfo& user);

}  // namespace shardwise::kubesim
