#include "hack/kube-sim/time_util.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace shardwise::kubesim {

long long NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

static std::string Format(long long seconds, int micros, bool with_micros) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  if (with_micros) {
    std::snprintf(buf, sizeof buf, ".%06d", micros);
    out += buf;
  }
  return out + "Z";
}

std::string NowRfc3339() { return Format(NowSeconds(), 0, false); }

std::string Rfc3339At(long long seconds) { return Format(seconds, 0, false); }

std::string Rfc3339Nano(std::chrono::system_clock::time_point t) {
  long long ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  std::string s = Format(ns / 1000000000, 0, false);
  char buf[16];
  std::snprintf(buf, sizeof buf, ".%09lld", ns % 1000000000);
  return s.substr(0, s.size() - 1) + buf + "Z";
}

std::optional<std::chrono::system_clock::time_point> ParseRfc3339Nano(std::string_view text) {
  auto secs = ParseRfc3339(text);
  if (!secs) return std::nullopt;
  long long nanos = 0;
  if (text.size() > 20 && text[19] == '.') {
    long long scale = 100000000;
    for (size_t i = 20; i < text.size() && text[i] >= '0' && text[i] <= '9' && scale > 0; ++i) {
      nanos += (text[i] - '0') * scale;
      scale /= 10;
    }
  }
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(*secs) + std::chrono::nanoseconds(nanos)));
}

std::string NowMicroTime() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return Format(us / 1000000, static_cast<int>(us % 1000000), true);
}

std::optional<long long> ParseRfc3339(std::string_view text) {
  std::tm tm{};
  int year, mon, day, hour, min, sec;
  std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &year, &mon, &day, &hour, &min, &sec) !=
      6) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  long long t = timegm(&tm);
  // A numeric offset ("+02:00") after the seconds and optional fraction.
  size_t pos = 19;
  while (pos < s.size() && (s[pos] == '.' || (s[pos] >= '0' && s[pos] <= '9'))) ++pos;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(s.c_str() + pos + 1, "%2d:%2d", &oh, &om) == 2) {
      long long off = oh * 3600 + om * 60;
      t += s[pos] == '+' ? -off : off;
    }
  }
  return t;
}

}  // namespace shardwise::kubesim
