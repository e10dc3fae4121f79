#include "hack/kube-sim/auth/authenticator.h"

#include <cctype>

namespace shardwise::kubesim {
namespace {

bool IsPublicPath(const std::string& path) {
  return path == "/healthz" || path == "/livez" || path == "/readyz" || path == "/version" ||
         path == "/version/";
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

ApiResult<UserInfo> Authenticator::AuthenticateToken(const std::string& token) {
  auto it = static_tokens_.find(token);
  if (it != static_tokens_.end()) {
    UserInfo u = it->second;
    u.AddGroup(kAuthenticated);
    return u;
  }
  auto sa = sa_tokens_.Authenticate(token, {});
  if (!sa.ok()) return ApiError::Unauthorized();
  return sa.value().user;
}

ApiResult<UserInfo> Authenticator::Authenticate(const http::Request& req) {
  UserInfo caller;
  std::string_view auth = req.Header("Authorization");
  if (!auth.empty()) {
    if (auth.size() < 7 || Lower(std::string(auth.substr(0, 7))) != "bearer ")
      return ApiError::Unauthorized();
    auto u = AuthenticateToken(std::string(auth.substr(7)));
    if (!u.ok()) return u.error();
    caller = u.value();
  } else if (req.peer_certificate.present()) {
    caller.username = req.peer_certificate.subject_cn;
    caller.groups = req.peer_certificate.organizations;
    caller.AddGroup(kAuthenticated);
  } else if (!req.tls) {
    caller.username = "system:unsecured";
    caller.groups = {kSystemMasters, kAuthenticated};
  } else if (IsPublicPath(req.path)) {
    caller.username = kAnonymous;
    caller.groups = {kUnauthenticated};
    return caller;
  } else {
    return ApiError::Unauthorized();
  }
  return Impersonate(req, caller);
}

ApiResult<UserInfo> Authenticator::Impersonate(const http::Request& req, const UserInfo& caller) {
  std::string user;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
  bool any = false;
  for (const auto& [k, v] : req.headers) {
    std::string key = Lower(k);
    if (key == "impersonate-user") {
      user = v;
      any = true;
    } else if (key == "impersonate-group") {
      groups.push_back(v);
      any = true;
    } else if (key == "impersonate-uid") {
      uid = v;
      any = true;
    } else if (key.rfind("impersonate-extra-", 0) == 0) {
      extra[http::PercentDecode(key.substr(18))].push_back(v);
      any = true;
    }
  }
  if (!any) return caller;
  if (user.empty())
    return ApiError(500, "InternalError",
                    "Internal error occurred: requested [" +
                        std::string(groups.empty() ? "" : "{Group " + groups[0] + "}") +
                        "] without impersonating a user");
  auto check = [&](const std::string& resource, const std::string& ns, const std::string& name,
                   const std::string& sub = "") -> ApiError {
    Attributes a;
    a.user = caller;
    a.verb = "impersonate";
    a.group = resource == "userextras" || resource == "uids" ? "authentication.k8s.io" : "";
    a.resource = resource;
    a.subresource = sub;
    a.ns = ns;
    a.name = name;
    if (authorizer_.Authorize(a).allowed) return ApiError();
    std::string what = resource == "serviceaccounts" ? "serviceaccount"
                       : resource == "groups"        ? "group"
                       : resource == "users"         ? "user"
                                                     : resource;
    return ApiError(403, "Forbidden",
                    what + "s \"" + name + "\" is forbidden: User \"" + caller.username +
                        "\" cannot impersonate resource \"" + resource + "\" in API group \"" +
                        a.group + "\"" +
                        (ns.empty() ? " at the cluster scope" : " in the namespace \"" + ns + "\""),
                    json{{"name", name}, {"kind", resource}});
  };
  std::string sa_ns, sa_name;
  bool is_sa = SplitServiceAccountUser(user, &sa_ns, &sa_name);
  ApiError e = is_sa ? check("serviceaccounts", sa_ns, sa_name) : check("users", "", user);
  if (!e.ok()) return e;
  for (const auto& g : groups)
    if (ApiError ge = check("groups", "", g); !ge.ok()) return ge;
  if (!uid.empty())
    if (ApiError ue = check("uids", "", uid); !ue.ok()) return ue;
  for (const auto& [k, values] : extra)
    for (const auto& v : values)
      if (ApiError xe = check("userextras", "", v, k); !xe.ok()) return xe;
  UserInfo out;
  out.username = user;
  out.uid = uid;
  out.groups = groups;
  out.extra = extra;
  if (is_sa && groups.empty())
    for (const auto& g : ServiceAccountGroups(sa_ns)) out.AddGroup(g);
  if (user != kAnonymous) out.AddGroup(kAuthenticated);
  return out;
}

}  // namespace shardwise::kubesim
