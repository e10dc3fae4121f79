// RbacAuthorizer: kube-apiserver's RBAC authorizer over the simulator's store. A request
// is allowed when some rule of a Role/ClusterRole bound to the user (directly, through
// one of its groups, or as a ServiceAccount subject) matches it; members of
// system:masters are always allowed, as the real server's privileged-group authorizer
// does. Also produces the rule lists of SelfSubjectRulesReview and the exact 403 text.
#pragma once

#include <string>

#include "hack/kube-sim/auth/user.h"
#include "hack/kube-sim/cluster.h"

namespace shardwise::kubesim {

// What a request wants (authorization.k8s.io ResourceAttributes / NonResourceAttributes).
struct Attributes {
  UserInfo user;
  std::string verb;
  bool resource_request = true;
  std::string group, resource, subresource, ns, name;
  std::string path;  // non-resource requests
};

struct Decision {
  bool allowed = false;
  std::string reason;
};

class RbacAuthorizer {
 public:
  explicit RbacAuthorizer(Cluster& cluster) : cluster_(cluster) {}
  Decision Authorize(const Attributes& a);
  // SelfSubjectRulesReview status: {resourceRules, nonResourceRules, incomplete}.
  json RulesReview(const UserInfo& user, const std::string& ns);
  // The rules granted to `user` in `ns` (cluster-wide ones included).
  std::vector<json> RulesFor(const UserInfo& user, const std::string& ns);

 private:
  Cluster& cluster_;
};

// True when `rule` (a PolicyRule) allows `a`.
bool RuleAllows(const json& rule, const Attributes& a);
// The 403 a denied request gets, with kube-apiserver's message.
ApiError Forbidden(const Attributes& a, const std::string& reason = "");

}  // namespace shardwise::kubesim
