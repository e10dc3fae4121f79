// Structured logging for every component, on spdlog. One line per event, rendered as
// logfmt (default, as Prometheus does) or JSON:
//   ts=2026-11-21T07:49:34.123Z level=info component=scraper msg="scrape failed" target=...
// Setup() once in main(); before it, logs go to stderr at info in logfmt.
#pragma once

#include <fmt/format.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "common/status.h"

namespace shardwise::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kLogfmt, kJson };

struct Field {
  template <typename T>
  Field(std::string_view k, const T& v) : key(k), value(fmt::format("{}", v)) {}
  Field(std::string_view k, const Status& s) : key(k), value(s.ToString()) {}
  Field(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  std::string_view key;
  std::string value;
};

// level: debug|info|warn|error; format: logfmt|json.
Status Setup(std::string_view level, std::string_view format, std::string_view component);
bool Enabled(Level level);

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields);
inline void Debug(std::string_view msg, std::initializer_list<Field> fields = {}) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, msg, fields);
}
inline void Info(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, msg, fields);
}
inline void Warn(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kWarn, msg, fields);
}
inline void Error(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kError, msg, fields);
}

// Renders one event line without the trailing newline (exposed for tests).
std::string Render(Format format, Level level, std::string_view component, std::string_view msg,
                   std::initializer_list<Field> fields, std::string_view timestamp);

}  // namespace shardwise::log
