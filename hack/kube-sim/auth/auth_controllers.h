// The controllers behind ServiceAccounts and RBAC, as kube-controller-manager runs them:
//  - serviceaccount + root-ca-cert-publisher: every active namespace has a `default`
//    ServiceAccount and a `kube-root-ca.crt` ConfigMap holding the cluster CA;
//  - tokens: fills legacy token Secrets (type kubernetes.io/service-account-token with
//    the kubernetes.io/service-account.name annotation) with token, ca.crt and
//    namespace, and deletes them when their ServiceAccount goes;
//  - clusterrole-aggregation: a ClusterRole with an aggregationRule gets the union of
//    the rules of the ClusterRoles its selectors match.
#pragma once

#include <memory>
#include <string>

#include "hack/kube-sim/auth/service_account_tokens.h"
#include "hack/kube-sim/controller.h"

namespace shardwise::kubesim {

std::unique_ptr<Controller> NewServiceAccountController(Cluster& cluster, std::string ca_pem);
std::unique_ptr<Controller> NewTokenController(Cluster& cluster, ServiceAccountTokens& tokens,
                                               std::string ca_pem);
std::unique_ptr<Controller> NewClusterRoleAggregationController(Cluster& cluster);

// LabelSelector (matchLabels + matchExpressions) against an object's labels.
bool LabelSelectorMatches(const json& selector, const json& object);

}  // namespace shardwise::kubesim
