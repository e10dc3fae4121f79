// ScraperAuth: who may use the discovery endpoint (DESIGN.md "Security model",
// docs/security.md). Every route needs `Authorization: Bearer <token>`, a Kubernetes
// ServiceAccount token with audience `shardwise` that TokenReview accepts:
//
//   GET  /api/v1/plans/<ns>/<pod>      only the pool's scraper ServiceAccount
//   POST /api/v1/reports/<ns>/<pod>    (<ns>:shardwise-<pool>-scraper), with a token bound to
//                                      that very pod (status.user.extra
//                                      authentication.kubernetes.io/pod-name): a scraper
//                                      reads only its own plan and reports only its own load
//   GET  /api/v1/http_sd/<ns>/<pool>/… any ServiceAccount of <ns> (the view has no
//                                      credentials; third-party scrapers mount a projected
//                                      token with audience shardwise)
//
// Answers: no or malformed Authorization, a token TokenReview refuses (expired, another
// audience, deleted pod) → 401 with WWW-Authenticate; an authenticated caller who is not
// allowed → 403 naming who it is and who is expected; TokenReview itself failing → 503.
// Counted in shardwise_discovery_auth_total{route,result}. Never logs a token.
#pragma once

#include <optional>
#include <string>

#include "common/http/message.h"
#include "operator/endpoint/token_review.h"

namespace shardwise::endpoint {

// What a request asks for, from its path.
struct Access {
  std::string route;  // "plans", "reports" or "http_sd"
  std::string ns;
  std::string pod;   // plans, reports
  std::string pool;  // every route
};

class ScraperAuth {
 public:
  explicit ScraperAuth(TokenReviewer& reviewer) : reviewer_(reviewer) {}
  // nullopt when `request` may have `access`; else the response to send.
  std::optional<http::Response> Check(const http::Request& request, const Access& access);

 private:
  TokenReviewer& reviewer_;
};

}  // namespace shardwise::endpoint
