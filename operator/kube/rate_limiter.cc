#include "operator/kube/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <thread>

namespace shardwise::kube {

SteadyClock RealSteadyClock() {
  return [] { return std::chrono::steady_clock::now(); };
}

TokenBucket::TokenBucket(double qps, int burst, SteadyClock clock)
    : qps_(qps),
      burst_(std::max(1, burst)),
      clock_(std::move(clock)),
      tokens_(burst_),
      last_(clock_()) {}

void TokenBucket::RefillLocked(std::chrono::steady_clock::time_point now) {
  if (now <= last_) return;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
  last_ = now;
}

std::chrono::nanoseconds TokenBucket::Reserve() {
  if (qps_ <= 0) return std::chrono::nanoseconds(0);
  std::lock_guard lock(mu_);
  RefillLocked(clock_());
  tokens_ -= 1;
  if (tokens_ >= 0) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(static_cast<int64_t>(std::ceil(-tokens_ / qps_ * 1e9)));
}

bool TokenBucket::TryAccept() {
  if (qps_ <= 0) return true;
  std::lock_guard lock(mu_);
  RefillLocked(clock_());
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

void TokenBucket::Wait() {
  const auto delay = Reserve();
  if (delay.count() > 0) std::this_thread::sleep_for(delay);
}

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds cap, double factor,
                 double jitter)
    : initial_(initial), cap_(cap), factor_(factor), jitter_(std::clamp(jitter, 0.0, 1.0)) {}

std::chrono::milliseconds Backoff::Next() {
  double delay = static_cast<double>(initial_.count()) * std::pow(factor_, attempt_);
  delay = std::min(delay, static_cast<double>(cap_.count()));
  if (delay < static_cast<double>(cap_.count())) ++attempt_;
  if (jitter_ > 0) {
    std::uniform_real_distribution<double> dist(1.0 - jitter_, 1.0);
    delay *= dist(rng_);
  }
  return std::chrono::milliseconds(static_cast<int64_t>(delay));
}

}  // namespace shardwise::kube
