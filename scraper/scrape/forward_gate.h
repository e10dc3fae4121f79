// ForwardGates: which scrapes of a target are forwarded — committed to storage, and so
// remote-written — while the target is handed from one scraper to another.
//
// During a handoff both scrapers scrape the target at the same phase (the phase is derived
// from the target alone), so they produce samples at the same instants. The operator picks a
// cutover instant: the old owner forwards the scrapes before it, the new owner those at or
// after it, so a receiver gets exactly one sample per scrape — no gap, and never two values
// at one timestamp (which a Prometheus receiver rejects). A target without a window
// forwards everything. Thread-safe: the plan applier writes, scrape loops read.
#pragma once

#include <cstdint>
#include <limits>
#include <mutex>
#include <unordered_map>

namespace shardwise::scrape {

// Scrapes with from_ms <= timestamp < until_ms are forwarded.
struct ForwardWindow {
  int64_t from_ms = std::numeric_limits<int64_t>::min();
  int64_t until_ms = std::numeric_limits<int64_t>::max();
  bool Contains(int64_t ts_ms) const { return ts_ms >= from_ms && ts_ms < until_ms; }
  bool operator==(const ForwardWindow&) const = default;
};

class ForwardGates {
 public:
  // Replaces every window: targets absent from `windows` forward everything.
  void Replace(std::unordered_map<uint64_t, ForwardWindow> windows);
  void Set(uint64_t target_hash, ForwardWindow window);
  void Clear(uint64_t target_hash);
  bool Forwards(uint64_t target_hash, int64_t ts_ms) const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, ForwardWindow> windows_;
};

}  // namespace shardwise::scrape
