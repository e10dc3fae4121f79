#include "operator/endpoint/scraper_auth.h"

#include <algorithm>
#include <cctype>

#include "common/log/log.h"
#include "common/metrics/registry.h"
#include "operator/endpoint/naming.h"

namespace shardwise::endpoint {
namespace {

void Count(const Access& access, const char* result) {
  static auto& f = metrics::Registry::Default().AddCounterFamily(
      "shardwise_discovery_auth_total",
      "Discovery endpoint requests by route and authentication result (ok, unauthenticated, "
      "forbidden, error).",
      {"route", "result"});
  f.With({access.route, result}).Inc();
}

http::Response Unauthenticated(const Access& access, const std::string& why) {
  Count(access, "unauthenticated");
  return http::Response::Text(401, "unauthenticated: " + why + "\n")
      .With("WWW-Authenticate", "Bearer realm=\"shardwise\"");
}

http::Response Forbidden(const Access& access, const TokenIdentity& who, const std::string& why) {
  Count(access, "forbidden");
  log::Warn("discovery endpoint request forbidden", {{"route", access.route},
                                                     {"namespace", access.ns},
                                                     {"pod", access.pod},
                                                     {"user", who.username},
                                                     {"bound_pod", who.pod_name},
                                                     {"reason", why}});
  return http::Response::Text(403, "forbidden: " + who.username + " " + why + "\n");
}

}  // namespace

std::optional<http::Response> ScraperAuth::Check(const http::Request& request,
                                                 const Access& access) {
  std::string_view header = request.Header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), header.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return Unauthenticated(access,
                           "send a Kubernetes ServiceAccount token with audience shardwise as "
                           "Authorization: Bearer <token>");
  }
  std::string token(header.substr(kBearer.size()));
  auto reviewed = reviewer_.Review(token);
  if (!reviewed.ok()) {
    Count(access, "error");
    log::Error("cannot review a scraper's token", {{"err", reviewed.status()}});
    return http::Response::Text(503, "cannot verify the token now; retry\n");
  }
  const TokenIdentity& who = *reviewed;
  if (!who.authenticated) {
    return Unauthenticated(
        access, "token rejected: " + (who.error.empty() ? std::string("invalid") : who.error));
  }
  if (who.service_account_namespace.empty()) {
    return Forbidden(access, who, "is not a ServiceAccount");
  }
  if (who.service_account_namespace != access.ns) {
    return Forbidden(access, who, "is not a ServiceAccount of namespace " + access.ns);
  }
  if (access.route != "http_sd") {
    std::string expected = ScraperServiceAccountName(access.pool);
    if (who.service_account_name != expected) {
      return Forbidden(access, who, "is not the pool's scraper ServiceAccount " + expected);
    }
    if (who.pod_name != access.pod) {
      return Forbidden(access, who,
                       "holds a token bound to pod \"" + who.pod_name + "\", not to \"" +
                           access.pod + "\": a scraper may only use its own plan and reports");
    }
  }
  Count(access, "ok");
  return std::nullopt;
}

}  // namespace shardwise::endpoint
