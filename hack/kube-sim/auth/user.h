// UserInfo: who a request is from, after authentication (and impersonation): the
// shape of authentication.k8s.io/v1 UserInfo that TokenReview and SelfSubjectReview
// return and that RBAC matches subjects against.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "hack/kube-sim/api_error.h"

namespace shardwise::kubesim {

// The audience and issuer of tokens meant for the simulated API server.
inline constexpr char kApiServerAudience[] = "https://kubernetes.default.svc.cluster.local";
inline constexpr char kApiServerAudienceShort[] = "api";
inline constexpr char kServiceAccountIssuer[] = "https://kubernetes.default.svc.cluster.local";

inline constexpr char kSystemMasters[] = "system:masters";
inline constexpr char kAuthenticated[] = "system:authenticated";
inline constexpr char kUnauthenticated[] = "system:unauthenticated";
inline constexpr char kAnonymous[] = "system:anonymous";

struct UserInfo {
  std::string username;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;

  bool InGroup(const std::string& g) const {
    return std::find(groups.begin(), groups.end(), g) != groups.end();
  }
  void AddGroup(const std::string& g) {
    if (!InGroup(g)) groups.push_back(g);
  }
  json ToJson() const {
    json j = {{"username", username}, {"groups", groups}};
    if (!uid.empty()) j["uid"] = uid;
    if (!extra.empty()) j["extra"] = extra;
    return j;
  }
};

// "system:serviceaccount:NS:NAME" → {NS, NAME}; false for other user names.
inline bool SplitServiceAccountUser(const std::string& user, std::string* ns, std::string* name) {
  const std::string prefix = "system:serviceaccount:";
  if (user.rfind(prefix, 0) != 0) return false;
  std::string rest = user.substr(prefix.size());
  size_t colon = rest.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) return false;
  *ns = rest.substr(0, colon);
  *name = rest.substr(colon + 1);
  return name->find(':') == std::string::npos;
}

// The groups every ServiceAccount user belongs to.
inline std::vector<std::string> ServiceAccountGroups(const std::string& ns) {
  return {"system:serviceaccounts", "system:serviceaccounts:" + ns, kAuthenticated};
}

}  // namespace shardwise::kubesim
