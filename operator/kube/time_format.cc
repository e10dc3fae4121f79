#include "operator/kube/time_format.h"

#include <cctype>
#include <ctime>

#include <fmt/format.h>

namespace shardwise::kube {
namespace {

std::string Format(std::chrono::system_clock::time_point t, bool micros) {
  const auto since_epoch = t.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(since_epoch - seconds);
  const std::time_t tt = static_cast<std::time_t>(seconds.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900,
                                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (micros) out += fmt::format(".{:06}", us.count());
  out += 'Z';
  return out;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> ParseTime(std::string_view s) {
  std::tm tm{};
  int year = 0, month = 0;
  if (s.size() < 20 || !Digits(s, 0, 4, &year) || s[4] != '-' || !Digits(s, 5, 2, &month) ||
      s[7] != '-' || !Digits(s, 8, 2, &tm.tm_mday) || s[10] != 'T' ||
      !Digits(s, 11, 2, &tm.tm_hour) || s[13] != ':' || !Digits(s, 14, 2, &tm.tm_min) ||
      s[16] != ':' || !Digits(s, 17, 2, &tm.tm_sec) || s.back() != 'Z' || month < 1 || month > 12 ||
      tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  int64_t micros = 0;
  if (s.size() > 20) {  // ".ffffff" between the seconds and the Z
    if (s[19] != '.' || s.size() < 22 || s.size() > 30) return std::nullopt;
    int64_t scale = 100000;
    for (size_t i = 20; i + 1 < s.size(); ++i, scale /= 10) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
      micros += (s[i] - '0') * scale;
    }
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  const std::time_t t = timegm(&tm);
  return std::chrono::system_clock::time_point(std::chrono::seconds(t)) +
         std::chrono::microseconds(micros);
}

std::string FormatTime(std::chrono::system_clock::time_point t) { return Format(t, false); }
std::string FormatMicroTime(std::chrono::system_clock::time_point t) { return Format(t, true); }

}  // namespace shardwise::kube
