// TokenReviewer: who a bearer token belongs to, as the Kubernetes API server vouches for it
// (TokenReview, authentication.k8s.io/v1, with spec.audiences = [audience]).
//
// Contract:
//  - Review() answers from a cache when it can. An accepted token is cached until its
//    `exp` claim, at most `max_ttl` (a bound token dies with its pod, so not for its whole
//    life); a refused one for `negative_ttl`. Entries are keyed by the token's SHA-256: the
//    cache holds no tokens. At most `max_entries` entries (the oldest go first).
//  - Before asking the API server, the token's claims are read without verifying the
//    signature (only the API server can): a token that is not a JWT, whose `aud` lacks the
//    audience or whose `exp` has passed is refused locally. Garbage and replayed expired
//    tokens so never reach the API server; only its answer can accept a token.
//  - A failed TokenReview (API server unreachable, 403 to the operator) is Unavailable and
//    is not cached: the caller answers 503, not 401.
//  - Thread-safe. Never logs a token.
#pragma once

#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace shardwise::kube {
class Client;
}

namespace shardwise::endpoint {

struct TokenIdentity {
  bool authenticated = false;
  std::string error;                      // why not, when not authenticated
  std::string username;                   // "system:serviceaccount:<ns>:<name>" for ServiceAccounts
  std::string service_account_namespace;  // from the username; "" for other users
  std::string service_account_name;
  std::string pod_name;  // the pod the token is bound to (extra ...pod-name), or ""
  std::string pod_uid;
};

class TokenReviewer {
 public:
  using Clock = std::chrono::system_clock;
  // Performs one TokenReview: the identity, or an error when the review itself failed.
  using ReviewFn = std::function<Result<TokenIdentity>(const std::string& token)>;

  struct Options {
    std::string audience = "shardwise";
    std::chrono::seconds max_ttl{120};
    std::chrono::seconds negative_ttl{10};
    size_t max_entries = 10000;
    std::function<Clock::time_point()> now = [] { return Clock::now(); };
  };

  // POSTs TokenReviews with `client` (the operator's own credentials; RBAC: create
  // tokenreviews, as in system:auth-delegator).
  static ReviewFn KubernetesReview(kube::Client* client, std::string audience);

  TokenReviewer(ReviewFn review, Options options);
  Result<TokenIdentity> Review(const std::string& token);

  // Counters for tests and metrics.
  uint64_t reviews() const;

 private:
  struct Entry {
    TokenIdentity identity;
    Clock::time_point expires;
    std::list<std::string>::iterator order;
  };
  // The claims check described above; an error message when the token is refused.
  std::optional<std::string> CheckClaims(const std::string& token, Clock::time_point* exp) const;
  void Put(const std::string& key, TokenIdentity identity, Clock::time_point expires);

  const ReviewFn review_;
  const Options options_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> cache_;
  std::list<std::string> order_;  // oldest first
  uint64_t reviews_ = 0;
};

// Fills service_account_namespace/name from "system:serviceaccount:<ns>:<name>".
void ParseServiceAccountUsername(TokenIdentity* identity);

}  // namespace shardwise::endpoint
