#include "hack/kube-sim/auth/request_info.h"

#include <cctype>
#include <vector>

#include "hack/kube-sim/url_path.h"

namespace shardwise::kubesim {

Attributes RequestAttributes(const http::Request& req, const UserInfo& user) {
  Attributes a;
  a.user = user;
  a.path = req.path;
  std::vector<std::string> seg = SplitPath(req.path);
  size_t rest = 0;
  if (!seg.empty() && seg[0] == "api" && seg.size() >= 3) {
    rest = 2;
  } else if (!seg.empty() && seg[0] == "apis" && seg.size() >= 4) {
    a.group = seg[1];
    rest = 3;
  }
  if (rest == 0) {
    a.resource_request = false;
    std::string m = req.method == "HEAD" ? "get" : req.method;
    for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    a.verb = m;
    return a;
  }
  std::vector<std::string> r(seg.begin() + static_cast<long>(rest), seg.end());
  bool watch_prefix = false;
  if (!r.empty() && r[0] == "watch") {  // deprecated /watch/ paths
    watch_prefix = true;
    r.erase(r.begin());
  }
  if (r.size() >= 2 && r[0] == "namespaces") {
    if (r.size() >= 3 && r[2] != "status" && r[2] != "finalize") {
      a.ns = r[1];
      r.erase(r.begin(), r.begin() + 2);
    } else {
      a.ns = r[1];  // the namespace object itself is in its own namespace for RBAC
    }
  }
  if (!r.empty()) a.resource = r[0];
  if (r.size() >= 2) a.name = r[1];
  if (r.size() >= 3) a.subresource = r[2];
  const std::string& m = req.method;
  bool item = !a.name.empty();
  std::string watch = req.Param("watch");
  if (m == "GET" || m == "HEAD") {
    a.verb = (watch_prefix || watch == "true" || watch == "1") ? "watch" : item ? "get" : "list";
  } else if (m == "POST") {
    a.verb = "create";
  } else if (m == "PUT") {
    a.verb = "update";
  } else if (m == "PATCH") {
    a.verb = "patch";
  } else if (m == "DELETE") {
    a.verb = item ? "delete" : "deletecollection";
  } else {
    a.verb = "";
  }
  return a;
}

}  // namespace shardwise::kubesim
