#include "operator/kube/time_format.h"

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

}  // namespace

std::string FormatTime(std::chrono::system_clock::time_point t) { return Format(t, false); }
std::string FormatMicroTime(std::chrono::system_clock::time_point t) { return Format(t, true); }

}  // namespace shardwise::kube
