#include "hack/kube-sim/auth/auth_api.h"

#include "hack/kube-sim/api_server.h"
#include "hack/kube-sim/auth/protobuf_reviews.h"
#include "hack/kube-sim/auth/request_info.h"
#include "hack/kube-sim/time_util.h"

namespace shardwise::kubesim {
namespace {

std::vector<std::string> Strings(const json& v) {
  std::vector<std::string> out;
  if (v.is_array())
    for (const auto& s : v)
      if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

std::string Str(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

json Shell(json body, const std::string& group, const std::string& kind) {
  if (!body.is_object()) body = json::object();
  body["apiVersion"] = group + "/v1";
  body["kind"] = kind;
  json md = body.value("metadata", json::object());
  if (!md.is_object()) md = json::object();
  md["creationTimestamp"] = nullptr;
  body["metadata"] = md;
  if (!body.contains("spec") || !body["spec"].is_object()) body["spec"] = json::object();
  return body;
}

ApiError Invalid(const std::string& group, const std::string& kind, const std::string& field,
                 const std::string& message) {
  return ApiError::Invalid(
      group, kind, "",
      json::array({{{"reason", "FieldValueInvalid"}, {"message", message}, {"field", field}}}));
}

}  // namespace

ApiResult<json> AuthApi::TokenReview(const json& in) {
  json r = Shell(in, "authentication.k8s.io", "TokenReview");
  std::string token = Str(r["spec"], "token");
  std::vector<std::string> audiences = Strings(r["spec"].value("audiences", json::array()));
  json status = {{"user", json::object()}};
  auto result = tokens_.Authenticate(token, audiences);
  if (result.ok()) {
    status["authenticated"] = true;
    status["user"] = result.value().user.ToJson();
    status["audiences"] = result.value().audiences;
  } else {
    status["error"] = result.status().message();
  }
  r["status"] = status;
  return r;
}

ApiResult<json> AuthApi::AccessReview(const std::string& kind, const std::string& path_ns, json in,
                                      const UserInfo& caller) {
  const std::string group = "authorization.k8s.io";
  json r = Shell(std::move(in), group, kind);
  const json& spec = r["spec"];
  if (kind == "SelfSubjectRulesReview") {
    std::string ns = Str(spec, "namespace");
    r["status"] = authorizer_.RulesReview(caller, ns);
    return r;
  }
  Attributes a;
  if (kind == "SelfSubjectAccessReview") {
    a.user = caller;
  } else {
    a.user.username = Str(spec, "user");
    a.user.uid = Str(spec, "uid");
    a.user.groups = Strings(spec.value("groups", json::array()));
    const json& extra = spec.value("extra", json::object());
    if (extra.is_object())
      for (const auto& [k, v] : extra.items()) a.user.extra[k] = Strings(v);
    if (a.user.username.empty() && a.user.groups.empty())
      return Invalid(group, kind, "spec.user",
                     "Invalid value: \"\": at least one of user or group must be specified");
  }
  const json& ra = spec.value("resourceAttributes", json());
  const json& nra = spec.value("nonResourceAttributes", json());
  if (ra.is_object() == nra.is_object())
    return Invalid(group, kind, "spec.resourceAttributes",
                   "Invalid value: \"null\": exactly one of nonResourceAttributes or "
                   "resourceAttributes must be specified");
  if (ra.is_object()) {
    a.resource_request = true;
    a.verb = Str(ra, "verb");
    a.group = Str(ra, "group");
    a.resource = Str(ra, "resource");
    a.subresource = Str(ra, "subresource");
    a.ns = Str(ra, "namespace");
    a.name = Str(ra, "name");
    if (kind == "LocalSubjectAccessReview") {
      if (a.ns.empty()) a.ns = path_ns;
      if (a.ns != path_ns)
        return Invalid(group, kind, "spec.resourceAttributes.namespace",
                       "Invalid value: \"" + a.ns + "\": must match metadata.namespace");
      r["metadata"]["namespace"] = path_ns;
    }
  } else {
    a.resource_request = false;
    a.verb = Str(nra, "verb");
    a.path = Str(nra, "path");
  }
  Decision d = authorizer_.Authorize(a);
  r["status"] = {{"allowed", d.allowed}};
  if (!d.reason.empty()) r["status"]["reason"] = d.reason;
  return r;
}

ApiResult<json> AuthApi::TokenRequest(const std::string& ns, const std::string& name, json in) {
  json r = Shell(std::move(in), "authentication.k8s.io", "TokenRequest");
  const json& spec = r["spec"];
  std::vector<std::string> audiences = Strings(spec.value("audiences", json::array()));
  int64_t exp = spec.contains("expirationSeconds") && spec["expirationSeconds"].is_number_integer()
                    ? spec["expirationSeconds"].get<int64_t>()
                    : 0;
  const json& ref = spec.value("boundObjectRef", json());
  std::string bound_kind = Str(ref, "kind");
  auto issued =
      tokens_.Issue(ns, name, audiences, exp, bound_kind, Str(ref, "name"), Str(ref, "uid"));
  if (!issued.ok()) return issued.error();
  if (audiences.empty()) audiences = {kApiServerAudience};
  r["metadata"]["name"] = name;
  r["metadata"]["namespace"] = ns;
  r["spec"]["audiences"] = audiences;
  r["spec"]["expirationSeconds"] = exp == 0 ? 3600 : exp;
  if (!r["spec"].contains("boundObjectRef")) r["spec"]["boundObjectRef"] = nullptr;
  r["status"] = {{"token", issued.value().token},
                 {"expirationTimestamp", Rfc3339At(issued.value().expiration_unix)}};
  return r;
}

bool AuthApi::Serve(const http::Request& req, const UserInfo& user, http::ResponseWriter& w) {
  if (req.method != "POST") return false;
  Attributes a = RequestAttributes(req, user);
  if (!a.resource_request) return false;
  std::string kind;
  if (a.group == "authentication.k8s.io" && a.ns.empty() && a.name.empty()) {
    if (a.resource == "tokenreviews") kind = "TokenReview";
    if (a.resource == "selfsubjectreviews") kind = "SelfSubjectReview";
  } else if (a.group == "authorization.k8s.io" && a.name.empty()) {
    if (a.resource == "subjectaccessreviews" && a.ns.empty()) kind = "SubjectAccessReview";
    if (a.resource == "selfsubjectaccessreviews" && a.ns.empty()) kind = "SelfSubjectAccessReview";
    if (a.resource == "selfsubjectrulesreviews" && a.ns.empty()) kind = "SelfSubjectRulesReview";
    if (a.resource == "localsubjectaccessreviews" && !a.ns.empty())
      kind = "LocalSubjectAccessReview";
  } else if (a.group.empty() && a.resource == "serviceaccounts" && a.subresource == "token" &&
             !a.ns.empty() && !a.name.empty()) {
    kind = "TokenRequest";
  }
  if (kind.empty()) return false;
  json body;
  if (req.Header("Content-Type").find("protobuf") != std::string_view::npos) {
    auto decoded = DecodeReviewProtobuf(req.body);
    if (!decoded.ok()) {
      SendApiError(w, decoded.error());
      return true;
    }
    body = decoded.value();
  } else {
    body = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
  }
  if (body.is_discarded() || !body.is_object()) {
    SendApiError(w, ApiError::BadRequest("the body of the request must be a JSON object"));
    return true;
  }
  ApiResult<json> out = ApiError::Internal("unreachable");
  if (kind == "TokenReview") {
    out = TokenReview(body);
  } else if (kind == "SelfSubjectReview") {
    json r = Shell(body, "authentication.k8s.io", "SelfSubjectReview");
    r.erase("spec");
    r["status"] = {{"userInfo", user.ToJson()}};
    out = r;
  } else if (kind == "TokenRequest") {
    out = TokenRequest(a.ns, a.name, body);
  } else {
    out = AccessReview(kind, a.ns, body, user);
  }
  if (!out.ok()) {
    SendApiError(w, out.error());
  } else {
    SendApiObject(w, 201, out.value());
  }
  return true;
}

}  // namespace shardwise::kubesim
