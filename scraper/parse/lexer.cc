#include "scraper/parse/lexer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace shardwise::parse::lex {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// Handles from_chars's result_out_of_range: Go reports overflow as an error but returns
// zero (or a denormal) without error on underflow.
bool ParseOutOfRange(std::string_view digits, double& out) {
  char buf[128];
  if (digits.size() >= sizeof buf) return false;
  std::memcpy(buf, digits.data(), digits.size());
  buf[digits.size()] = '\0';
  const double v = std::strtod(buf, nullptr);
  if (std::isinf(v)) return false;
  out = v;
  return true;
}

}  // namespace

bool ParseValue(std::string_view token, double& out) {
  const char* p = token.data();
  const char* const end = p + token.size();
  if (ParseDecimalPrefix(p, end, out) == end && p != end) return true;
  if (p == end) return false;
  bool negative = false;
  bool signed_token = false;
  if (*p == '-' || *p == '+') {
    negative = *p == '-';
    signed_token = true;
    ++p;
  }
  if (p == end) return false;

  const std::string_view rest(p, static_cast<size_t>(end - p));
  if (rest[0] == 'i' || rest[0] == 'I') {
    if (!EqualsIgnoreCase(rest, "inf") && !EqualsIgnoreCase(rest, "infinity")) return false;
    out = negative ? -std::numeric_limits<double>::infinity()
                   : std::numeric_limits<double>::infinity();
    return true;
  }
  if (rest[0] == 'n' || rest[0] == 'N') {
    // Go accepts "NaN" only without a sign.
    if (signed_token || !EqualsIgnoreCase(rest, "nan")) return false;
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  // Only digits, '.', and an exponent may follow; from_chars would also take "nan(...)"
  // and a second sign, which Go rejects.
  if (!((rest[0] >= '0' && rest[0] <= '9') || rest[0] == '.')) return false;
  double v = 0;
  const auto [ptr, ec] = std::from_chars(p, end, v, std::chars_format::general);
  if (ptr != end) return false;
  if (ec == std::errc::result_out_of_range) {
    if (!ParseOutOfRange(rest, v)) return false;
  } else if (ec != std::errc()) {
    return false;
  }
  out = negative ? -v : v;
  return true;
}

bool ParseTextTimestamp(std::string_view token, int64_t& out_ms) {
  const char* p = token.data();
  const char* const end = p + token.size();
  // Digits only, as Prometheus's text lexer ({D}+): no sign, so no timestamp before 1970.
  if (p == end || *p < '0' || *p > '9') return false;
  int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(p, end, v, 10);
  if (ec != std::errc() || ptr != end) return false;
  out_ms = v;
  return true;
}

bool ParseOpenMetricsTimestamp(std::string_view token, int64_t& out_ms) {
  double seconds = 0;
  if (!ParseValue(token, seconds) || !std::isfinite(seconds)) return false;
  const double ms = std::round(seconds * 1000.0);
  // 2^63 is exactly representable; anything at or beyond it does not fit in int64.
  if (ms >= 9223372036854775808.0 || ms < -9223372036854775808.0) return false;
  out_ms = static_cast<int64_t>(ms);
  return true;
}

void AppendUnescaped(std::string_view raw, bool unescape_quote, std::string& out) {
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c != '\\' || i + 1 == raw.size()) {
      out.push_back(c);
      continue;
    }
    const char n = raw[i + 1];
    if (n == '\\') {
      out.push_back('\\');
    } else if (n == 'n') {
      out.push_back('\n');
    } else if (n == '"' && unescape_quote) {
      out.push_back('"');
    } else {
      out.push_back('\\');
      out.push_back(n);
    }
    ++i;
  }
}

}  // namespace shardwise::parse::lex
