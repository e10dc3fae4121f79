// WorkQueue: the controller work queue, with client-go / controller-runtime semantics.
//
//  * Deduplication: an item added several times before a worker takes it is processed
//    once.
//  * One worker per item: an item added while a worker holds it (between Get and Done) is
//    not handed out again until that worker calls Done; then it is re-queued once.
//  * Delays: AddAfter(item, d) adds it after d (an earlier pending time wins).
//  * Rate limiting: AddRateLimited(item) waits max(per-item exponential backoff
//    base·2^failures capped at max, overall token bucket); Forget(item) resets the item's
//    failure count once it succeeded. NumRequeues(item) reports the count.
//  * ShutDown: Add stops accepting; Get keeps returning what is queued, then nullopt.
//    ShutDownWithDrain additionally waits until every item handed out is Done.
//
// Items are keys (usually "namespace/name"). Thread-safe; Get blocks.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "operator/kube/rate_limiter.h"

namespace shardwise::kube {

// Per-item exponential backoff combined with an overall token bucket (client-go's
// DefaultControllerRateLimiter: 5 ms .. 1000 s per item, 10 qps / 100 burst overall).
class ItemRateLimiter {
 public:
  struct Options {
    std::chrono::milliseconds base_delay{5};
    std::chrono::milliseconds max_delay{1000 * 1000};
    double qps = 10;
    int burst = 100;
  };
  ItemRateLimiter();
  explicit ItemRateLimiter(Options options);

  // The delay before the item's next attempt; counts a failure.
  std::chrono::nanoseconds When(const std::string& item);
  void Forget(const std::string& item);
  int NumRequeues(const std::string& item) const;

 private:
  const Options options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, int> failures_;
  TokenBucket bucket_;
};

class WorkQueue {
 public:
  WorkQueue();
  explicit WorkQueue(ItemRateLimiter::Options limiter);
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Add(const std::string& item);
  void AddAfter(const std::string& item, std::chrono::nanoseconds delay);
  void AddRateLimited(const std::string& item);
  void Forget(const std::string& item);
  int NumRequeues(const std::string& item) const;

  // Blocks until an item is ready; nullopt once shut down and empty.
  std::optional<std::string> Get();
  // Like Get, but gives up after `timeout` (nullopt; check ShuttingDown()).
  std::optional<std::string> GetFor(std::chrono::milliseconds timeout);
  void Done(const std::string& item);

  void ShutDown();
  void ShutDownWithDrain();
  bool ShuttingDown() const;
  // Items ready to be handed out (not the delayed or in-progress ones).
  size_t Len() const;

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  void AddLocked(const std::string& item);
  void DelayLoop();
  std::optional<std::string> TakeLocked();

  mutable std::mutex mu_;
  std::condition_variable ready_cv_;    // Get waiters
  std::condition_variable delay_cv_;    // the delay thread
  std::condition_variable drained_cv_;  // ShutDownWithDrain
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;
  std::unordered_set<std::string> processing_;
  std::set<std::pair<TimePoint, std::string>> waiting_;
  std::unordered_map<std::string, TimePoint> waiting_since_;
  bool shutting_down_ = false;
  ItemRateLimiter limiter_;
  std::thread delay_thread_;
};

}  // namespace shardwise::kube
