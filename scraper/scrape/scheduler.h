// Scheduler: the shared clock and CPU of all scrape loops, so the scraper needs no thread
// per target. One timer thread runs due timers in time order (a binary heap); timer
// callbacks must be quick (they start an async HTTP request). A small worker pool runs the
// CPU work (parse and append) handed to Post().
//
// Stop() drops pending timers and queued work and joins every thread; At()/Post() after
// Stop() are ignored.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace shardwise::scrape {

class Scheduler {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Scheduler(size_t workers = 2);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs fn on the timer thread at `when` (or soon after).
  void At(Clock::time_point when, std::function<void()> fn);
  // Runs fn on a worker thread.
  void Post(std::function<void()> fn);
  void Stop();

  size_t pending_timers() const;

 private:
  struct Timer {
    Clock::time_point when;
    uint64_t seq;  // FIFO among timers due at the same instant
    std::function<void()> fn;
    bool operator>(const Timer& o) const { return when != o.when ? when > o.when : seq > o.seq; }
  };
  void TimerLoop();
  void WorkerLoop();

  mutable std::mutex mu_;
  std::condition_variable timer_cv_;
  std::condition_variable work_cv_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::deque<std::function<void()>> work_;
  uint64_t seq_ = 0;
  bool stopping_ = false;
  std::thread timer_thread_;
  std::vector<std::thread> workers_;
};

}  // namespace shardwise::scrape
