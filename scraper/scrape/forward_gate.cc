#include "scraper/scrape/forward_gate.h"

namespace shardwise::scrape {

void ForwardGates::Replace(std::unordered_map<uint64_t, ForwardWindow> windows) {
  std::lock_guard lock(mu_);
  windows_ = std::move(windows);
}

void ForwardGates::Set(uint64_t target_hash, ForwardWindow window) {
  std::lock_guard lock(mu_);
  windows_[target_hash] = window;
}

void ForwardGates::Clear(uint64_t target_hash) {
  std::lock_guard lock(mu_);
  windows_.erase(target_hash);
}

bool ForwardGates::Forwards(uint64_t target_hash, int64_t ts_ms) const {
  std::lock_guard lock(mu_);
  auto it = windows_.find(target_hash);
  return it == windows_.end() || it->second.Contains(ts_ms);
}

}  // namespace shardwise::scrape
