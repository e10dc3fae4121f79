// Wall-clock helpers for object timestamps: RFC 3339 (metav1.Time, whole seconds) and
// MicroTime (six fractional digits), both in UTC with a trailing "Z".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace shardwise::kubesim {

std::string NowRfc3339();
std::string NowMicroTime();
// Seconds since the epoch, or nullopt if `text` is not RFC 3339.
std::optional<long long> ParseRfc3339(std::string_view text);
long long NowSeconds();

}  // namespace shardwise::kubesim
