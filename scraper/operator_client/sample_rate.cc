#include "scraper/operator_client/sample_rate.h"

#include <algorithm>

namespace shardwise::opclient {

double SampleRate::Update(Clock::time_point now, double samples,
                          std::chrono::milliseconds longest_interval) {
  if (!readings_.empty()) total_ += std::max(0.0, samples);
  readings_.emplace_back(now, total_);
  const auto window = std::max(min_window_, 4 * longest_interval);
  // Keep the newest reading at or before the window's start (and a bound on how many
  // readings the window holds: a Poke per applied plan adds readings between ticks).
  while (readings_.size() > 2 && readings_[1].first <= now - window) readings_.pop_front();
  while (readings_.size() > 4096) readings_.pop_front();
  const auto& [start, start_total] = readings_.front();
  const double seconds = std::chrono::duration<double>(now - start).count();
  return seconds > 0 ? (total_ - start_total) / seconds : 0;
}

}  // namespace shardwise::opclient
