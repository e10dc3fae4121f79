#include "operator/endpoint/token_review.h"

#include <openssl/evp.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "operator/kube/client.h"

namespace shardwise::endpoint {
namespace {

const kube::GroupVersionResource kTokenReviews{"authentication.k8s.io", "v1", "tokenreviews"};
constexpr char kPodNameExtra[] = "authentication.kubernetes.io/pod-name";
constexpr char kPodUidExtra[] = "authentication.kubernetes.io/pod-uid";

std::string Sha256(const std::string& s) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), digest, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(digest), len);
}

std::string FirstExtra(const nlohmann::json& extra, const char* key) {
  if (!extra.is_object() || !extra.contains(key)) return "";
  const auto& v = extra[key];
  if (v.is_array() && !v.empty() && v[0].is_string()) return v[0].get<std::string>();
  if (v.is_string()) return v.get<std::string>();
  return "";
}

}  // namespace

void ParseServiceAccountUsername(TokenIdentity* identity) {
  constexpr std::string_view kPrefix = "system:serviceaccount:";
  std::string_view u = identity->username;
  if (!u.starts_with(kPrefix)) return;
  u.remove_prefix(kPrefix.size());
  size_t colon = u.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == u.size()) return;
  identity->service_account_namespace = std::string(u.substr(0, colon));
  identity->service_account_name = std::string(u.substr(colon + 1));
}

TokenReviewer::ReviewFn TokenReviewer::KubernetesReview(kube::Client* client,
                                                        std::string audience) {
  return [client, audience](const std::string& token) -> Result<TokenIdentity> {
    nlohmann::json review = {{"apiVersion", "authentication.k8s.io/v1"},
                             {"kind", "TokenReview"},
                             {"spec", {{"token", token}, {"audiences", {audience}}}}};
    auto got = client->Create(kTokenReviews, "", review);
    if (!got.ok()) {
      return Status::Unavailable("TokenReview failed: " + got.status().message());
    }
    const nlohmann::json& status = got->value("status", nlohmann::json::object());
    TokenIdentity id;
    id.authenticated = status.value("authenticated", false);
    id.error = status.value("error", "");
    if (id.authenticated) {
      // An API server that ignores spec.audiences answers with its own: insist on ours.
      const auto& auds = status.value("audiences", nlohmann::json::array());
      bool ours = auds.is_array() && std::any_of(auds.begin(), auds.end(), [&](const auto& a) {
                    return a.is_string() && a.template get<std::string>() == audience;
                  });
      if (!ours) {
        id.authenticated = false;
        id.error = "token audiences do not include " + audience;
      }
    }
    const nlohmann::json& user = status.value("user", nlohmann::json::object());
    id.username = user.value("username", "");
    const nlohmann::json& extra = user.value("extra", nlohmann::json::object());
    id.pod_name = FirstExtra(extra, kPodNameExtra);
    id.pod_uid = FirstExtra(extra, kPodUidExtra);
    ParseServiceAccountUsername(&id);
    return id;
  };
}

TokenReviewer::TokenReviewer(ReviewFn review, Options options)
    : review_(std::move(review)), options_(std::move(options)) {}

uint64_t TokenReviewer::reviews() const {
  std::lock_guard lock(mu_);
  return reviews_;
}

std::optional<std::string> TokenReviewer::CheckClaims(const std::string& token,
                                                      Clock::time_point* exp) const {
  size_t a = token.find('.');
  size_t b = a == std::string::npos ? a : token.find('.', a + 1);
  if (b == std::string::npos || token.find('.', b + 1) != std::string::npos) {
    return "not a JSON Web Token";
  }
  auto payload = Base64UrlDecode(std::string_view(token).substr(a + 1, b - a - 1));
  if (!payload.ok()) return "not a JSON Web Token";
  auto claims = nlohmann::json::parse(*payload, nullptr, /*allow_exceptions=*/false);
  if (!claims.is_object()) return "not a JSON Web Token";
  const auto& aud = claims.value("aud", nlohmann::json());
  bool ours = aud.is_string() ? aud.get<std::string>() == options_.audience
              : aud.is_array()
                  ? std::any_of(aud.begin(), aud.end(),
                                [&](const auto& x) {
                                  return x.is_string() &&
                                         x.template get<std::string>() == options_.audience;
                                })
                  : false;
  if (!ours) return "the token's audience is not " + options_.audience;
  const auto& e = claims.value("exp", nlohmann::json());
  if (!e.is_number()) return "the token has no expiry";
  // A claim of any size must not overflow the clock's nanoseconds: past year 2286 is
  // nonsense for a token, so it is refused rather than converted.
  const double exp_seconds = e.get<double>();
  if (!(exp_seconds > 0) || exp_seconds > 1e10) return "the token's expiry is out of range";
  *exp = Clock::time_point(std::chrono::seconds(static_cast<int64_t>(exp_seconds)));
  if (*exp <= options_.now()) return "the token has expired";
  return std::nullopt;
}

void TokenReviewer::Put(const std::string& key, TokenIdentity identity, Clock::time_point expires) {
  std::lock_guard lock(mu_);
  if (auto it = cache_.find(key); it != cache_.end()) {
    order_.erase(it->second.order);
    cache_.erase(it);
  }
  while (cache_.size() >= options_.max_entries && !order_.empty()) {
    cache_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(key);
  cache_.emplace(key, Entry{std::move(identity), expires, std::prev(order_.end())});
}

Result<TokenIdentity> TokenReviewer::Review(const std::string& token) {
  const auto now = options_.now();
  Clock::time_point exp{};
  if (auto why = CheckClaims(token, &exp)) {
    TokenIdentity refused;
    refused.error = *why;
    return refused;
  }
  const std::string key = Sha256(token);
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(key); it != cache_.end()) {
      if (it->second.expires > now) return it->second.identity;
      order_.erase(it->second.order);
      cache_.erase(it);
    }
    ++reviews_;
  }
  auto reviewed = review_(token);
  if (!reviewed.ok()) return reviewed.status();
  Clock::time_point until =
      reviewed->authenticated ? std::min(exp, now + options_.max_ttl) : now + options_.negative_ttl;
  Put(key, *reviewed, until);
  return reviewed;
}

}  // namespace shardwise::endpoint
