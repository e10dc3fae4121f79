// What to do with a remote-write response, and how long to wait before trying again.
//
// Contract (remote write 1.0, as Prometheus does it):
//  - 2xx: delivered.
//  - 5xx and network/timeout errors: retry the same batch with capped exponential backoff.
//  - 429: retry when retry_on_http_429, else drop.
//  - Any other status (other 4xx, 1xx, 3xx): drop the batch, never retry — the receiver
//    has said it will never accept it, and retrying would block everything behind it.
//  - A Retry-After header (delta-seconds or an HTTP-date) on a retryable answer replaces
//    the backoff for that attempt.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "common/status.h"

namespace shardwise::remotewrite {

enum class SendOutcome { kDelivered, kRetry, kDrop };

struct Verdict {
  SendOutcome outcome = SendOutcome::kDelivered;
  std::optional<std::chrono::milliseconds> retry_after;
};

Verdict ClassifyStatus(int http_status, std::string_view retry_after_header, bool retry_on_429,
                       std::chrono::system_clock::time_point now);
// A transport failure (no HTTP status at all): always worth retrying.
inline Verdict ClassifyTransportError(const Status&) { return {SendOutcome::kRetry, {}}; }

// Parses Retry-After: "120" or "Sun, 06 Nov 1994 08:49:37 GMT" (IMF-fixdate; the obsolete
// RFC 850 and asctime forms too). A date in the past means "now" (zero).
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now);

// Doubling backoff between min and max; Reset() after a success.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max)
      : min_(min), max_(max), next_(min) {}
  std::chrono::milliseconds Next() {
    auto d = next_;
    next_ = std::min(max_, next_ * 2);
    return d;
  }
  void Reset() { next_ = min_; }

 private:
  std::chrono::milliseconds min_, max_, next_;
};

}  // namespace shardwise::remotewrite
