#include "common/log/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <mutex>

namespace shardwise::log {
namespace {

struct State {
  std::atomic<Level> level{Level::kInfo};
  std::atomic<Format> format{Format::kLogfmt};
  std::mutex mu;
  std::string component;
  std::shared_ptr<spdlog::logger> logger;
};

State& GetState() {
  static State* s = [] {
    auto* st = new State;
    st->logger = spdlog::stderr_logger_mt("shardwise");
    st->logger->set_pattern("%v");
    st->logger->set_level(spdlog::level::trace);
    st->logger->flush_on(spdlog::level::trace);
    return st;
  }();
  return *s;
}

std::string_view LevelName(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

bool NeedsQuoting(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) >= 0x7f) {
      return true;
    }
  }
  return false;
}

void AppendEscaped(std::string& out, std::string_view v) {
  for (unsigned char c : v) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

void AppendLogfmt(std::string& out, std::string_view k, std::string_view v) {
  if (!out.empty()) out += ' ';
  out += k;
  out += '=';
  if (NeedsQuoting(v)) {
    out += '"';
    AppendEscaped(out, v);
    out += '"';
  } else {
    out += v;
  }
}

void AppendJson(std::string& out, std::string_view k, std::string_view v) {
  out += out.size() > 1 ? ",\"" : "\"";
  AppendEscaped(out, k);
  out += "\":\"";
  AppendEscaped(out, v);
  out += '"';
}

std::string Now() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms.count()));
}

}  // namespace

Status Setup(std::string_view level, std::string_view format, std::string_view component) {
  State& s = GetState();
  if (level == "debug") {
    s.level = Level::kDebug;
  } else if (level == "info") {
    s.level = Level::kInfo;
  } else if (level == "warn") {
    s.level = Level::kWarn;
  } else if (level == "error") {
    s.level = Level::kError;
  } else {
    return Status::InvalidArgument("unknown log level \"" + std::string(level) +
                                   "\" (want debug, info, warn or error)");
  }
  if (format == "logfmt") {
    s.format = Format::kLogfmt;
  } else if (format == "json") {
    s.format = Format::kJson;
  } else {
    return Status::InvalidArgument("unknown log format \"" + std::string(format) +
                                   "\" (want logfmt or json)");
  }
  std::lock_guard lock(s.mu);
  s.component = std::string(component);
  return Status::OK();
}

bool Enabled(Level level) { return level >= GetState().level.load(std::memory_order_relaxed); }

std::string Render(Format format, Level level, std::string_view component, std::string_view msg,
                   std::initializer_list<Field> fields, std::string_view timestamp) {
  std::string out;
  if (format == Format::kJson) {
    out = "{";
    AppendJson(out, "ts", timestamp);
    AppendJson(out, "level", LevelName(level));
    if (!component.empty()) AppendJson(out, "component", component);
    AppendJson(out, "msg", msg);
    for (const auto& f : fields) AppendJson(out, f.key, f.value);
    out += '}';
  } else {
    AppendLogfmt(out, "ts", timestamp);
    AppendLogfmt(out, "level", LevelName(level));
    if (!component.empty()) AppendLogfmt(out, "component", component);
    AppendLogfmt(out, "msg", msg);
    for (const auto& f : fields) AppendLogfmt(out, f.key, f.value);
  }
  return out;
}

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  State& s = GetState();
  std::string component;
  {
    std::lock_guard lock(s.mu);
    component = s.component;
  }
  std::string line = Render(s.format.load(), level, component, msg, fields, Now());
  s.logger->info(line);
}

}  // namespace shardwise::log
