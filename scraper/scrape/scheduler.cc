#include "scraper/scrape/scheduler.h"

namespace shardwise::scrape {

Scheduler::Scheduler(size_t workers) {
  timer_thread_ = std::thread([this] { TimerLoop(); });
  if (workers == 0) workers = 1;
  for (size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::At(Clock::time_point when, std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    bool earliest = timers_.empty() || when < timers_.top().when;
    timers_.push(Timer{when, seq_++, std::move(fn)});
    if (!earliest) return;
  }
  timer_cv_.notify_one();
}

void Scheduler::Post(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    work_.push_back(std::move(fn));
  }
  work_cv_.notify_one();
}

size_t Scheduler::pending_timers() const {
  std::lock_guard lock(mu_);
  return timers_.size();
}

void Scheduler::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !timer_thread_.joinable()) return;
    stopping_ = true;
  }
  timer_cv_.notify_all();
  work_cv_.notify_all();
  if (timer_thread_.joinable()) timer_thread_.join();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
  // Dropped outside mu_, for the same reason as in WorkerLoop.
  decltype(timers_) timers;
  decltype(work_) work;
  {
    std::lock_guard lock(mu_);
    timers.swap(timers_);
    work.swap(work_);
  }
}

void Scheduler::TimerLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (timers_.empty()) {
      timer_cv_.wait(lock);
      continue;
    }
    auto when = timers_.top().when;
    if (Clock::now() < when) {
      timer_cv_.wait_until(lock, when);
      continue;
    }
    // priority_queue::top is const; the function is moved out before pop.
    std::function<void()> fn = std::move(const_cast<Timer&>(timers_.top()).fn);
    timers_.pop();
    lock.unlock();
    fn();
    fn = nullptr;  // see WorkerLoop
    lock.lock();
  }
}

void Scheduler::WorkerLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (work_.empty()) {
      work_cv_.wait(lock);
      continue;
    }
    std::function<void()> fn = std::move(work_.front());
    work_.pop_front();
    lock.unlock();
    fn();
    // What the function captured dies here, outside mu_: a destructor may lock its owner
    // (~ScrapeLoop) or schedule again, and must not nest inside the scheduler's lock.
    fn = nullptr;
    lock.lock();
  }
}

}  // namespace shardwise::scrape
