#include "hack/kube-sim/auth/service_account_tokens.h"

#include <algorithm>

#include "common/base64.h"
#include "hack/kube-sim/time_util.h"

namespace shardwise::kubesim {
namespace {

constexpr char kLegacyIssuer[] = "kubernetes/serviceaccount";
constexpr int64_t kDefaultExpiration = 3600;
constexpr int64_t kMinExpiration = 600;

std::string AudienceList(const std::vector<std::string>& a) {
  std::string out = "[";
  for (size_t i = 0; i < a.size(); ++i) out += (i ? " " : "") + std::string("\"") + a[i] + "\"";
  return out + "]";
}

std::vector<std::string> Intersect(const std::vector<std::string>& a,
                                   const std::vector<std::string>& b) {
  std::vector<std::string> out;
  for (const auto& x : a)
    if (std::find(b.begin(), b.end(), x) != b.end()) out.push_back(x);
  return out;
}

std::string Uid(const json& obj) {
  return obj.value("metadata", json::object()).value("uid", std::string());
}

}  // namespace

ServiceAccountTokens::ServiceAccountTokens(Cluster& cluster)
    : cluster_(cluster), now_([] { return NowSeconds(); }) {}

const JwtKey* ServiceAccountTokens::key() {
  std::call_once(key_once_, [this] {
    auto k = JwtKey::Generate();
    if (k.ok()) key_ = k.value();
  });
  return key_.get();
}

ApiResult<json> ServiceAccountTokens::Lookup(const std::string& plural, const std::string& ns,
                                             const std::string& name) {
  TypePtr t = cluster_.FindType("", "v1", plural);
  if (!t) return ApiError::Internal("no type " + plural);
  return cluster_.Get(*t, ns, name);
}

ApiResult<IssuedToken> ServiceAccountTokens::Issue(
    const std::string& ns, const std::string& service_account, std::vector<std::string> audiences,
    long long expiration_seconds, const std::string& bound_kind, const std::string& bound_name,
    const std::string& bound_uid) {
  if (expiration_seconds == 0) expiration_seconds = kDefaultExpiration;
  json causes = json::array();
  if (expiration_seconds < kMinExpiration)
    causes.push_back({{"reason", "FieldValueInvalid"},
                      {"field", "spec.expirationSeconds"},
                      {"message", "Invalid value: " + std::to_string(expiration_seconds) +
                                      ": may not specify a duration less than 10 minutes"}});
  if (!bound_kind.empty() && bound_kind != "Pod" && bound_kind != "Secret")
    causes.push_back({{"reason", "FieldValueNotSupported"},
                      {"field", "spec.boundObjectRef.kind"},
                      {"message", "Unsupported value: \"" + bound_kind +
                                      "\": supported values: \"Pod\", \"Secret\""}});
  if (!causes.empty())
    return ApiError::Invalid("authentication.k8s.io", "TokenRequest", service_account, causes);
  auto sa = Lookup("serviceaccounts", ns, service_account);
  if (!sa.ok()) return sa.error();
  if (audiences.empty()) audiences = {kApiServerAudience};
  int64_t now = now_();
  int64_t exp = now + expiration_seconds;
  json k8s = {{"namespace", ns},
              {"serviceaccount", {{"name", service_account}, {"uid", Uid(sa.value())}}}};
  if (!bound_kind.empty()) {
    auto bound = Lookup(bound_kind == "Pod" ? "pods" : "secrets", ns, bound_name);
    if (!bound.ok()) return bound.error();
    if (!bound_uid.empty() && Uid(bound.value()) != bound_uid)
      return ApiError::Conflict("", bound_kind == "Pod" ? "pods" : "secrets", bound_name);
    json ref = {{"name", bound_name}, {"uid", Uid(bound.value())}};
    k8s[bound_kind == "Pod" ? "pod" : "secret"] = ref;
    if (bound_kind == "Pod") {
      std::string node = bound.value().value("spec", json::object()).value("nodeName", "");
      if (!node.empty()) k8s["node"] = {{"name", node}};
    }
  }
  json claims = {{"iss", kServiceAccountIssuer},
                 {"sub", "system:serviceaccount:" + ns + ":" + service_account},
                 {"aud", audiences},
                 {"exp", exp},
                 {"iat", now},
                 {"nbf", now},
                 {"jti", NewUid()},
                 {"kubernetes.io", k8s}};
  if (!key()) return ApiError::Internal("no ServiceAccount signing key");
  IssuedToken out;
  out.token = key()->Sign(claims);
  out.expiration_unix = exp;
  return out;
}

std::string ServiceAccountTokens::IssueLegacy(const std::string& ns,
                                              const std::string& service_account,
                                              const std::string& sa_uid,
                                              const std::string& secret_name) {
  json claims = {{"iss", kLegacyIssuer},
                 {"sub", "system:serviceaccount:" + ns + ":" + service_account},
                 {"kubernetes.io/serviceaccount/namespace", ns},
                 {"kubernetes.io/serviceaccount/secret.name", secret_name},
                 {"kubernetes.io/serviceaccount/service-account.name", service_account},
                 {"kubernetes.io/serviceaccount/service-account.uid", sa_uid}};
  return key() ? key()->Sign(claims) : std::string();
}

TokenIssuer ServiceAccountTokens::IssuerFn() {
  return [this](const std::string& ns, const std::string& sa,
                const std::vector<std::string>& audiences, long long expiration_seconds,
                const std::string& pod_name, const std::string& pod_uid) -> Result<IssuedToken> {
    auto r = Issue(ns, sa, audiences, expiration_seconds, pod_name.empty() ? "" : "Pod", pod_name,
                   pod_uid);
    if (!r.ok()) return Status::FailedPrecondition(r.error().message());
    return r.value();
  };
}

Result<TokenAuthResult> ServiceAccountTokens::CheckLegacy(const std::string& token,
                                                          const json& claims,
                                                          const std::vector<std::string>& wanted) {
  std::string ns = claims.value("kubernetes.io/serviceaccount/namespace", "");
  std::string secret = claims.value("kubernetes.io/serviceaccount/secret.name", "");
  std::string name = claims.value("kubernetes.io/serviceaccount/service-account.name", "");
  std::string uid = claims.value("kubernetes.io/serviceaccount/service-account.uid", "");
  std::vector<std::string> api = {kApiServerAudience, kApiServerAudienceShort};
  auto audiences = Intersect(wanted.empty() ? api : wanted, api);
  if (audiences.empty())
    return Status::InvalidArgument("[invalid bearer token, token audiences " + AudienceList(api) +
                                   " is invalid for the target audiences " + AudienceList(wanted) +
                                   "]");
  auto s = Lookup("secrets", ns, secret);
  if (!s.ok())
    return Status::InvalidArgument("[invalid bearer token, token lookup failed: secrets \"" +
                                   secret + "\" not found]");
  const json& data = s.value().value("data", json::object());
  auto stored = Base64Decode(data.value("token", std::string()));
  if (!stored.ok() || stored.value() != token)
    return Status::InvalidArgument("[invalid bearer token, token does not match its secret]");
  auto sa = Lookup("serviceaccounts", ns, name);
  if (!sa.ok() || Uid(sa.value()) != uid)
    return Status::InvalidArgument("[invalid bearer token, service account " + ns + "/" + name +
                                   " has been deleted]");
  TokenAuthResult out;
  out.user.username = "system:serviceaccount:" + ns + ":" + name;
  out.user.uid = uid;
  out.user.groups = ServiceAccountGroups(ns);
  out.audiences = audiences;
  return out;
}

Result<TokenAuthResult> ServiceAccountTokens::Authenticate(const std::string& token,
                                                           const std::vector<std::string>& wanted) {
  if (std::count(token.begin(), token.end(), '.') != 2)
    return Status::InvalidArgument("[invalid bearer token]");  // not a JWT: no key needed
  if (!key()) return Status::Internal("no ServiceAccount signing key");
  auto verified = key()->Verify(token);
  if (!verified.ok()) return Status::InvalidArgument("[invalid bearer token]");
  const json& c = verified.value();
  std::string iss = c.value("iss", json()).is_string() ? c["iss"].get<std::string>() : "";
  if (iss == kLegacyIssuer) return CheckLegacy(token, c, wanted);
  if (iss != kServiceAccountIssuer) return Status::InvalidArgument("[invalid bearer token]");
  int64_t now = now_();
  auto num = [&](const char* k) {
    return c.contains(k) && c[k].is_number() ? c[k].get<int64_t>() : int64_t{0};
  };
  if (num("exp") <= now)
    return Status::InvalidArgument("[invalid bearer token, service account token has expired]");
  if (num("nbf") > now)
    return Status::InvalidArgument(
        "[invalid bearer token, service account token is not valid yet]");
  std::vector<std::string> aud;
  if (c.contains("aud") && c["aud"].is_array()) {
    for (const auto& a : c["aud"])
      if (a.is_string()) aud.push_back(a.get<std::string>());
  } else if (c.contains("aud") && c["aud"].is_string()) {
    aud.push_back(c["aud"].get<std::string>());
  }
  std::vector<std::string> want =
      wanted.empty() ? std::vector<std::string>{kApiServerAudience, kApiServerAudienceShort}
                     : wanted;
  auto audiences = Intersect(want, aud);
  if (audiences.empty())
    return Status::InvalidArgument("[invalid bearer token, token audiences " + AudienceList(aud) +
                                   " is invalid for the target audiences " + AudienceList(want) +
                                   "]");
  const json k8s = c.value("kubernetes.io", json::object());
  if (!k8s.is_object()) return Status::InvalidArgument("[invalid bearer token]");
  std::string ns = k8s.value("namespace", "");
  json sa_ref = k8s.value("serviceaccount", json::object());
  std::string name = sa_ref.is_object() ? sa_ref.value("name", "") : "";
  std::string uid = sa_ref.is_object() ? sa_ref.value("uid", "") : "";
  auto sa = Lookup("serviceaccounts", ns, name);
  if (!sa.ok())
    return Status::InvalidArgument("[invalid bearer token, serviceaccounts \"" + name +
                                   "\" not found]");
  if (Uid(sa.value()) != uid)
    return Status::InvalidArgument("[invalid bearer token, service account UID (" + uid +
                                   ") does not match claim (" + Uid(sa.value()) + ")]");
  TokenAuthResult out;
  out.user.username = "system:serviceaccount:" + ns + ":" + name;
  out.user.uid = uid;
  out.user.groups = ServiceAccountGroups(ns);
  for (const char* kind : {"pod", "secret"}) {
    json ref = k8s.value(kind, json());
    if (!ref.is_object()) continue;
    std::string bname = ref.value("name", ""), buid = ref.value("uid", "");
    auto bound = Lookup(std::string(kind) + "s", ns, bname);
    if (!bound.ok())
      return Status::InvalidArgument("[invalid bearer token, " + std::string(kind) + "s \"" +
                                     bname + "\" not found]");
    if (Uid(bound.value()) != buid)
      return Status::InvalidArgument(
          "[invalid bearer token, the UID in the bound object "
          "reference (" +
          buid + ") does not match the " + kind + "'s UID (" + Uid(bound.value()) + ")]");
    if (std::string(kind) == "pod") {
      out.user.extra["authentication.kubernetes.io/pod-name"] = {bname};
      out.user.extra["authentication.kubernetes.io/pod-uid"] = {buid};
    }
  }
  json node = k8s.value("node", json());
  if (node.is_object() && node.value("name", "") != "")
    out.user.extra["authentication.kubernetes.io/node-name"] = {node.value("name", "")};
  if (c.contains("jti") && c["jti"].is_string())
    out.user.extra["authentication.kubernetes.io/credential-id"] = {"JTI=" +
                                                                    c["jti"].get<std::string>()};
  out.audiences = audiences;
  return out;
}

}  // namespace shardwise::kubesim
