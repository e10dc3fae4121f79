#include "tests/differential/compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace shardwise::differential {
namespace {

constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;

bool IsStale(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits == kStaleNaNBits;
}

// The non-stale `up` timestamps of `job`, in order.
std::vector<int64_t> ScrapeTimes(const Capture& c, const std::string& job) {
  std::vector<int64_t> out;
  for (const auto& [text, s] : c.series) {
    if (s.name != "up" || s.job != job) continue;
    for (const Point& p : s.points) {
      if (!IsStale(p.value)) out.push_back(p.t_ms);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Where a sample belongs: "scrape #k" of some job, or its own exposed timestamp.
struct Slot {
  std::string job;    // empty: an exposed timestamp
  int64_t index = 0;  // scrape number, or the timestamp itself
  auto operator<=>(const Slot&) const = default;
};

using Values = std::multiset<std::string>;
using Table = std::map<std::string, std::map<Slot, Values>>;  // series -> slot -> values

Table Build(const Capture& c, const std::vector<std::string>& jobs,
            const std::map<std::string, size_t>& comparable) {
  // Scrape timestamp -> (job, k) for every job; a series is placed by its timestamp, which
  // also finds the job of series whose job label the target overrode (honor_labels).
  std::map<int64_t, std::vector<std::pair<std::string, size_t>>> when;
  for (const std::string& job : jobs) {
    std::vector<int64_t> times = ScrapeTimes(c, job);
    for (size_t k = 0; k < times.size(); ++k) when[times[k]].push_back({job, k});
  }
  Table table;
  for (const auto& [text, s] : c.series) {
    for (const Point& p : s.points) {
      Slot slot{"", p.t_ms};
      if (auto it = when.find(p.t_ms); it != when.end()) {
        auto match = it->second.front();
        for (const auto& candidate : it->second) {
          if (candidate.first == s.job) match = candidate;
        }
        if (match.second >= comparable.at(match.first)) continue;  // not complete in both
        slot = Slot{match.first, static_cast<int64_t>(match.second)};
      }
      std::string value = s.name == "scrape_duration_seconds" && !IsStale(p.value)
                              ? "<duration>"
                              : ValueString(p.value);
      Values& values = table[text][slot];
      if (slot.job.empty() && values.count(value) > 0) continue;  // exposed: a set
      values.insert(value);
    }
  }
  return table;
}

std::string Join(const Values& values) {
  std::string out = "[";
  for (const std::string& v : values) out += (out.size() > 1 ? " " : "") + v;
  return out + "]";
}

}  // namespace

std::string ValueString(double v) {
  if (IsStale(v)) return "stale";
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0 && std::signbit(v)) return "-0";
  return fmt::format("{}", v);
}

size_t ComparableScrapes(const Capture& a, const Capture& b, const std::string& job) {
  return std::min(ScrapeTimes(a, job).size(), ScrapeTimes(b, job).size());
}

std::vector<std::string> Compare(const Capture& prometheus, const Capture& shardwise,
                                 const std::vector<std::string>& jobs) {
  std::map<std::string, size_t> comparable;
  for (const std::string& job : jobs)
    comparable[job] = ComparableScrapes(prometheus, shardwise, job);
  Table p = Build(prometheus, jobs, comparable);
  Table s = Build(shardwise, jobs, comparable);
  std::vector<std::string> diffs;
  std::set<std::string> series;
  for (const auto& [text, slots] : p) series.insert(text);
  for (const auto& [text, slots] : s) series.insert(text);
  for (const std::string& text : series) {
    std::map<Slot, std::pair<Values, Values>> both;
    if (auto it = p.find(text); it != p.end()) {
      for (const auto& [slot, values] : it->second) both[slot].first = values;
    }
    if (auto it = s.find(text); it != s.end()) {
      for (const auto& [slot, values] : it->second) both[slot].second = values;
    }
    for (const auto& [slot, values] : both) {
      if (values.first == values.second) continue;
      std::string where = slot.job.empty() ? fmt::format("exposed t={}", slot.index)
                                           : fmt::format("{} scrape #{}", slot.job, slot.index);
      diffs.push_back(fmt::format("{} {}: prometheus {} shardwise {}", where, text,
                                  Join(values.first), Join(values.second)));
    }
  }
  for (const std::string& m : prometheus.metadata) {
    if (shardwise.metadata.count(m) == 0) diffs.push_back("metadata only from prometheus: " + m);
  }
  for (const std::string& m : shardwise.metadata) {
    if (prometheus.metadata.count(m) == 0) diffs.push_back("metadata only from shardwise: " + m);
  }
  std::sort(diffs.begin(), diffs.end());
  return diffs;
}

}  // namespace shardwise::differential
