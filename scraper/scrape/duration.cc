#include "scraper/scrape/duration.h"

#include <array>
#include <cctype>

namespace shardwise::scrape {
namespace {

struct Unit {
  std::string_view name;
  int64_t ms;
};
constexpr std::array<Unit, 7> kUnits = {{{"y", 365LL * 24 * 3600 * 1000},
                                         {"w", 7LL * 24 * 3600 * 1000},
                                         {"d", 24LL * 3600 * 1000},
                                         {"h", 3600LL * 1000},
                                         {"m", 60LL * 1000},
                                         {"s", 1000},
                                         {"ms", 1}}};

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("not a valid duration string: \"" + std::string(text) + "\"");
  };
  if (text == "0") return std::chrono::milliseconds(0);
  if (text.empty()) return bad();
  int64_t total = 0;
  size_t next_unit = 0;  // units must appear in decreasing order, each once
  size_t i = 0;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return bad();
    int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      n = n * 10 + (text[i] - '0');
      if (n > (int64_t{1} << 40)) return bad();
      ++i;
    }
    size_t j = i;
    while (j < text.size() && std::isalpha(static_cast<unsigned char>(text[j]))) ++j;
    std::string_view unit = text.substr(i, j - i);
    // "m" followed by "s" is "ms": the alpha run already captured it whole.
    size_t u = next_unit;
    while (u < kUnits.size() && kUnits[u].name != unit) ++u;
    if (u == kUnits.size()) return bad();
    total += n * kUnits[u].ms;
    next_unit = u + 1;
    i = j;
  }
  return std::chrono::milliseconds(total);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  for (const auto& unit : kUnits) {
    // Prometheus prints weeks and years only when they divide exactly.
    if ((unit.name == "y" || unit.name == "w") && ms % unit.ms != 0) continue;
    if (ms >= unit.ms) {
      out += std::to_string(ms / unit.ms);
      out += unit.name;
      ms %= unit.ms;
    }
  }
  return out;
}

Result<uint64_t> ParseSize(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("not a valid size: \"" + std::string(text) + "\"");
  };
  size_t i = 0;
  uint64_t n = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
    if (n > (uint64_t{1} << 50)) return bad();
    ++i;
  }
  if (i == 0) return bad();
  std::string_view unit = text.substr(i);
  static constexpr std::array<std::string_view, 6> kNames = {"B", "K", "M", "G", "T", "P"};
  if (unit.empty()) return n;
  for (size_t p = 0; p < kNames.size(); ++p) {
    std::string_view rest = unit;
    if (rest.substr(0, 1) != kNames[p]) continue;
    rest.remove_prefix(1);
    bool ok = p == 0 ? rest.empty() : (rest == "B" || rest == "iB");
    if (!ok) continue;
    uint64_t factor = uint64_t{1} << (10 * p);
    return n * factor;
  }
  return bad();
}

}  // namespace shardwise::scrape
