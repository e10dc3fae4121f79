#include "operator/kube/workqueue.h"

#include <algorithm>
#include <cmath>

namespace shardwise::kube {

ItemRateLimiter::ItemRateLimiter() : ItemRateLimiter(Options()) {}

ItemRateLimiter::ItemRateLimiter(Options options)
    : options_(options), bucket_(options.qps, options.burst) {}

std::chrono::nanoseconds ItemRateLimiter::When(const std::string& item) {
  int failures;
  {
    std::lock_guard lock(mu_);
    failures = failures_[item]++;
  }
  const double base_ns = std::chrono::duration<double, std::nano>(options_.base_delay).count();
  const double max_ns = std::chrono::duration<double, std::nano>(options_.max_delay).count();
  const double backoff = std::min(max_ns, base_ns * std::pow(2.0, std::min(failures, 62)));
  const auto bucket = bucket_.Reserve();
  return std::max(std::chrono::nanoseconds(static_cast<int64_t>(backoff)), bucket);
}

void ItemRateLimiter::Forget(const std::string& item) {
  std::lock_guard lock(mu_);
  failures_.erase(item);
}

int ItemRateLimiter::NumRequeues(const std::string& item) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(item);
  return it == failures_.end() ? 0 : it->second;
}

WorkQueue::WorkQueue() : WorkQueue(ItemRateLimiter::Options()) {}

WorkQueue::WorkQueue(ItemRateLimiter::Options limiter)
    : limiter_(limiter), delay_thread_([this] { DelayLoop(); }) {}

WorkQueue::~WorkQueue() {
  ShutDown();
  delay_thread_.join();
}

void WorkQueue::AddLocked(const std::string& item) {
  if (shutting_down_ || dirty_.contains(item)) return;
  dirty_.insert(item);
  if (processing_.contains(item)) return;  // re-queued by Done
  queue_.push_back(item);
  ready_cv_.notify_one();
}

void WorkQueue::Add(const std::string& item) {
  std::lock_guard lock(mu_);
  AddLocked(item);
}

void WorkQueue::AddAfter(const std::string& item, std::chrono::nanoseconds delay) {
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  if (delay.count() <= 0) return AddLocked(item);
  const auto when = std::chrono::steady_clock::now() + delay;
  if (auto it = waiting_since_.find(item); it != waiting_since_.end()) {
    if (it->second <= when) return;  // already due earlier
    waiting_.erase({it->second, item});
    it->second = when;
  } else {
    waiting_since_.emplace(item, when);
  }
  waiting_.insert({when, item});
  delay_cv_.notify_one();
}

void WorkQueue::AddRateLimited(const std::string& item) { AddAfter(item, limiter_.When(item)); }

void WorkQueue::Forget(const std::string& item) { limiter_.Forget(item); }

int WorkQueue::NumRequeues(const std::string& item) const { return limiter_.NumRequeues(item); }

void WorkQueue::DelayLoop() {
  std::unique_lock lock(mu_);
  while (!shutting_down_) {
    const auto now = std::chrono::steady_clock::now();
    while (!waiting_.empty() && waiting_.begin()->first <= now) {
      std::string item = waiting_.begin()->second;
      waiting_.erase(waiting_.begin());
      waiting_since_.erase(item);
      AddLocked(item);
    }
    if (waiting_.empty()) {
      delay_cv_.wait(lock);
    } else {
      delay_cv_.wait_until(lock, waiting_.begin()->first);
    }
  }
}

std::optional<std::string> WorkQueue::TakeLocked() {
  if (queue_.empty()) return std::nullopt;
  std::string item = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(item);
  dirty_.erase(item);
  return item;
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock lock(mu_);
  ready_cv_.wait(lock, [&] { return !queue_.empty() || shutting_down_; });
  return TakeLocked();
}

std::optional<std::string> WorkQueue::GetFor(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  ready_cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || shutting_down_; });
  return TakeLocked();
}

void WorkQueue::Done(const std::string& item) {
  std::lock_guard lock(mu_);
  processing_.erase(item);
  if (dirty_.contains(item)) {
    queue_.push_back(item);
    ready_cv_.notify_one();
  }
  if (processing_.empty()) drained_cv_.notify_all();
}

void WorkQueue::ShutDown() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  ready_cv_.notify_all();
  delay_cv_.notify_all();
}

void WorkQueue::ShutDownWithDrain() {
  std::unique_lock lock(mu_);
  shutting_down_ = true;
  ready_cv_.notify_all();
  delay_cv_.notify_all();
  drained_cv_.wait(lock, [&] { return processing_.empty() && queue_.empty(); });
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

size_t WorkQueue::Len() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

}  // namespace shardwise::kube
