// Wall-clock helpers for object timestamps: RFC 3339 (metav1.Time, whole seconds) and
// MicroTime (six fractional digits), both in UTC with a trailing "Z".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace shardwise::kubesim {

std::string NowRfc3339();
// RFC 3339 for `seconds` since the epoch.
std::string Rfc3339At(long long seconds);
// RFC 3339 with nanoseconds ("2026-01-02T03:04:05.123456789Z"), as container logs use.
std::string Rfc3339Nano(std::chrono::system_clock::time_point t);
// Parses the fractional form too; nullopt if `text` is not RFC 3339.
std::optional<std::chrono::system_clock::time_point> ParseRfc3339Nano(std::string_view text);
std::string NowMicroTime();
// Seconds since the epoch, or nullopt if `text` is not RFC 3339.
std::optional<long long> ParseRfc3339(std::string_view text);
long long NowSeconds();

}  // namespace shardwise::kubesim
