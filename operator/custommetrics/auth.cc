#include "operator/custommetrics/auth.h"

#include <algorithm>

#include "common/log/log.h"
#include "operator/certs/pki.h"

namespace shardwise::custommetrics {
namespace {

using nlohmann::json;

constexpr size_t kMaxCached = 4096;
const kube::GroupVersionResource kSubjectAccessReviews{"authorization.k8s.io", "v1",
                                                       "subjectaccessreviews"};

// The ConfigMap stores lists as JSON arrays in strings.
Status StringList(const json& data, const char* key, std::vector<std::string>* out) {
  auto it = data.find(key);
  if (it == data.end() || !it->is_string()) return Status::OK();
  json parsed = json::parse(it->get<std::string>(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_null()) return Status::OK();
  if (!parsed.is_array()) return Status::InvalidArgument(std::string(key) + ": not a JSON array");
  out->clear();
  for (const auto& v : parsed) {
    if (!v.is_string()) return Status::InvalidArgument(std::string(key) + ": not strings");
    out->push_back(v.get<std::string>());
  }
  return Status::OK();
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool IStartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && IEquals(s.substr(0, prefix.size()), prefix);
}

}  // namespace

Result<RequestHeaderConfig> RequestHeaderConfig::FromConfigMap(const json& cm) {
  const json& data = cm.value("data", json::object());
  if (!data.is_object()) return Status::InvalidArgument("ConfigMap has no data");
  RequestHeaderConfig c;
  c.client_ca_pem = data.value("requestheader-client-ca-file", "");
  if (c.client_ca_pem.empty()) {
    return Status::NotFound(
        "requestheader-client-ca-file is not set: the aggregation layer is off");
  }
  SHARDWISE_RETURN_IF_ERROR(StringList(data, "requestheader-allowed-names", &c.allowed_names));
  SHARDWISE_RETURN_IF_ERROR(
      StringList(data, "requestheader-username-headers", &c.username_headers));
  SHARDWISE_RETURN_IF_ERROR(StringList(data, "requestheader-group-headers", &c.group_headers));
  SHARDWISE_RETURN_IF_ERROR(
      StringList(data, "requestheader-extra-headers-prefix", &c.extra_header_prefixes));
  return c;
}

RequestHeaderAuthenticator::RequestHeaderAuthenticator(
    std::function<std::chrono::system_clock::time_point()> now)
    : now_(std::move(now)) {}

void RequestHeaderAuthenticator::Update(RequestHeaderConfig config) {
  std::lock_guard lock(mu_);
  config_ = std::move(config);
}

bool RequestHeaderAuthenticator::configured() const {
  std::lock_guard lock(mu_);
  return config_.has_value();
}

Result<UserInfo> RequestHeaderAuthenticator::Authenticate(const http::Request& req) const {
  RequestHeaderConfig c;
  {
    std::lock_guard lock(mu_);
    if (!config_) return Status::Unavailable("request-header authentication is not configured yet");
    c = *config_;
  }
  const http::PeerCertificate& peer = req.peer_certificate;
  if (!peer.present()) return Status::FailedPrecondition("no client certificate");
  // The server verified the chain against the CA it loaded; the configuration may be newer.
  Status verified = certs::VerifyCertificate(peer.chain_pem.front(), c.client_ca_pem, now_(),
                                             certs::Usage::kClient);
  if (!verified.ok()) return verified.WithContext("front-proxy client certificate");
  if (!c.allowed_names.empty() && std::find(c.allowed_names.begin(), c.allowed_names.end(),
                                            peer.subject_cn) == c.allowed_names.end()) {
    return Status::FailedPrecondition("client certificate CN \"" + peer.subject_cn +
                                      "\" is not in requestheader-allowed-names");
  }
  UserInfo u;
  for (const auto& h : c.username_headers) {
    std::string_view v = req.Header(h);
    if (!v.empty()) {
      u.name = std::string(v);
      break;
    }
  }
  if (u.name.empty()) return Status::FailedPrecondition("no user name header");
  for (const auto& [name, value] : req.headers) {
    for (const auto& h : c.group_headers) {
      if (IEquals(name, h)) u.groups.push_back(value);
    }
    for (const auto& p : c.extra_header_prefixes) {
      if (IStartsWith(name, p) && name.size() > p.size()) {
        std::string key = http::PercentDecode(name.substr(p.size()));
        std::transform(key.begin(), key.end(), key.begin(),
                       [](unsigned char ch) { return std::tolower(ch); });
        u.extra[key].push_back(value);
      }
    }
  }
  return u;
}

SubjectAccessReviewAuthorizer::SubjectAccessReviewAuthorizer(
    kube::Client& client, std::chrono::milliseconds ttl,
    std::function<std::chrono::steady_clock::time_point()> now)
    : client_(client), ttl_(ttl), now_(std::move(now)) {}

uint64_t SubjectAccessReviewAuthorizer::reviews() const {
  std::lock_guard lock(mu_);
  return reviews_;
}

json SubjectAccessReviewAuthorizer::Review(const UserInfo& user, const Attributes& a) {
  json spec = {{"user", user.name}, {"groups", user.groups}};
  if (!user.extra.empty()) spec["extra"] = user.extra;
  if (a.resource_request) {
    spec["resourceAttributes"] = {{"verb", a.verb},
                                  {"group", a.group},
                                  {"version", a.version},
                                  {"resource", a.resource},
                                  {"subresource", a.subresource},
                                  {"name", a.name},
                                  {"namespace", a.ns}};
  } else {
    spec["nonResourceAttributes"] = {{"path", a.path}, {"verb", a.verb}};
  }
  return {{"apiVersion", "authorization.k8s.io/v1"},
          {"kind", "SubjectAccessReview"},
          {"spec", std::move(spec)}};
}

Result<bool> SubjectAccessReviewAuthorizer::Authorize(const UserInfo& user, const Attributes& a,
                                                      std::string* reason) {
  json review = Review(user, a);
  const std::string key =
      review["spec"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const auto now = now_();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.expires > now) {
      *reason = it->second.reason;
      return it->second.allowed;
    }
  }
  auto r = client_.Create(kSubjectAccessReviews, "", review);
  if (!r.ok()) return r.status().WithContext("SubjectAccessReview");
  const json& st = (*r).value("status", json::object());
  bool allowed = st.value("allowed", false) && !st.value("denied", false);
  *reason = st.value("reason", "");
  std::lock_guard lock(mu_);
  ++reviews_;
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_[key] = {allowed, *reason, now + ttl_};
  return allowed;
}

}  // namespace shardwise::custommetrics
