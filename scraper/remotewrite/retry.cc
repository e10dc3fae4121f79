#include "scraper/remotewrite/retry.h"

#include <cctype>
#include <ctime>
#include <string>

namespace shardwise::remotewrite {

using std::chrono::milliseconds;

std::optional<milliseconds> ParseRetryAfter(std::string_view value,
                                            std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  bool all_digits = true;
  for (char c : value) all_digits &= std::isdigit(static_cast<unsigned char>(c)) != 0;
  if (all_digits) {
    if (value.size() > 9) return milliseconds(999'999'999LL * 1000);  // absurd but valid
    return milliseconds(std::stoll(std::string(value)) * 1000);
  }
  // HTTP-date (RFC 9110 §5.6.7): IMF-fixdate first, then the two obsolete forms.
  static constexpr const char* kFormats[] = {"%a, %d %b %Y %H:%M:%S GMT",
                                             "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"};
  std::string text(value);
  for (const char* format : kFormats) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), format, &tm);
    if (end == nullptr || *end != '\0') continue;
    auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
    auto delta = std::chrono::duration_cast<milliseconds>(when - now);
    return delta.count() > 0 ? delta : milliseconds(0);
  }
  return std::nullopt;
}

Verdict ClassifyStatus(int http_status, std::string_view retry_after_header, bool retry_on_429,
                       std::chrono::system_clock::time_point now) {
  if (http_status >= 200 && http_status < 300) return {SendOutcome::kDelivered, {}};
  bool retry = http_status >= 500 || (http_status == 429 && retry_on_429);
  if (!retry) return {SendOutcome::kDrop, {}};
  return {SendOutcome::kRetry, ParseRetryAfter(retry_after_header, now)};
}

}  // namespace shardwise::remotewrite
