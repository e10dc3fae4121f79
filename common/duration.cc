#include "common/duration.h"

#include <cstdint>

namespace shardwise {
namespace {

struct Unit {
  std::string_view name;
  int64_t ms;
};
// Order matters: "ms" must be tried before "m"; units must appear largest first.
constexpr Unit kUnits[] = {{"y", 365LL * 24 * 3600 * 1000},
                           {"w", 7LL * 24 * 3600 * 1000},
                           {"d", 24LL * 3600 * 1000},
                           {"h", 3600LL * 1000},
                           {"ms", 1},
                           {"m", 60LL * 1000},
                           {"s", 1000}};
constexpr int kRank[] = {0, 1, 2, 3, 6, 4, 5};  // position of each unit in largest-first order

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view s) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("invalid duration \"" + std::string(s) +
                                   "\": " + std::string(why));
  };
  if (s == "0") return std::chrono::milliseconds(0);
  if (s.empty()) return bad("empty");
  int64_t total = 0;
  int last_rank = -1;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] < '0' || s[i] > '9') return bad("expected a number");
    int64_t n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (n > (INT64_MAX - 9) / 10) return bad("too large");
      n = n * 10 + (s[i] - '0');
      ++i;
    }
    int found = -1;
    for (int u = 0; u < 7; ++u) {
      if (s.substr(i, kUnits[u].name.size()) == kUnits[u].name) {
        found = u;
        break;
      }
    }
    if (found < 0) {
      size_t end = i;
      while (end < s.size() && (s[end] < '0' || s[end] > '9')) ++end;
      if (end == i) return bad("missing unit (want y, w, d, h, m, s or ms)");
      return bad("unknown unit \"" + std::string(s.substr(i, end - i)) +
                 "\" (want y, w, d, h, m, s or ms)");
    }
    if (kRank[found] <= last_rank) return bad("units must be given largest first, once each");
    last_rank = kRank[found];
    i += kUnits[found].name.size();
    if (n > INT64_MAX / kUnits[found].ms) return bad("too large");
    total += n * kUnits[found].ms;
  }
  return std::chrono::milliseconds(total);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  // As Prometheus prints durations: years and weeks only when they divide exactly, so 90
  // days reads "90d" rather than "12w6d".
  struct Step {
    std::string_view name;
    int64_t ms;
    bool exact_only;
  };
  static constexpr Step kOrder[] = {{"y", 365LL * 24 * 3600 * 1000, true},
                                    {"w", 7LL * 24 * 3600 * 1000, true},
                                    {"d", 24LL * 3600 * 1000, false},
                                    {"h", 3600LL * 1000, false},
                                    {"m", 60LL * 1000, false},
                                    {"s", 1000, false},
                                    {"ms", 1, false}};
  for (const auto& u : kOrder) {
    if (u.exact_only && ms % u.ms != 0) continue;
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms);
      out += u.name;
      ms %= u.ms;
    }
  }
  return out;
}

}  // namespace shardwise
