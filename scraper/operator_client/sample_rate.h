// SampleRate: samples per second over a sliding window of counter readings.
//
// The load report's samples/s used to be "samples since the previous report / seconds since
// it". Reports go out every 5 s while targets are scraped every 10 s or more, so that figure
// flapped between 0 and twice the real rate (kubectl get scrapeshards, the pool's status and
// the autoscaler's input all showed it). Here the rate spans at least `min_window` and at
// least four of the longest scrape interval, so one scrape more or less in the window moves
// it by a quarter of one scrape's samples at most, and a steady load reads steady.
//
// Not thread-safe: LoadReporter calls it under its build mutex.
#pragma once

#include <chrono>
#include <deque>
#include <utility>

namespace shardwise::opclient {

class SampleRate {
 public:
  using Clock = std::chrono::steady_clock;

  explicit SampleRate(std::chrono::milliseconds min_window = std::chrono::seconds(60))
      : min_window_(min_window) {}

  // Records `samples` counted since the previous call, at `now`, and returns the samples
  // per second over the window ending now (0 on the first call, which only starts the
  // window: its samples date from before it). `longest_interval` is the longest scrape
  // interval running; it widens the window.
  double Update(Clock::time_point now, double samples, std::chrono::milliseconds longest_interval);

 private:
  const std::chrono::milliseconds min_window_;
  double total_ = 0;
  std::deque<std::pair<Clock::time_point, double>> readings_;  // (time, cumulative samples)
};

}  // namespace shardwise::opclient
