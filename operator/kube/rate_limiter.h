// TokenBucket: client-side request rate limiting (client-go's flowcontrol semantics).
// The bucket holds up to `burst` tokens and refills at `qps` per second; each request
// takes one. Reserve() never blocks: it takes the token now or in the future and says how
// long the caller must wait, so waiting callers are served in order. qps <= 0 disables
// limiting. The clock is injectable so tests need no sleeps.
//
// Backoff: capped exponential delays with optional jitter, for retries and reconnects.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <random>

namespace shardwise::kube {

using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;
SteadyClock RealSteadyClock();

class TokenBucket {
 public:
  TokenBucket(double qps, int burst, SteadyClock clock = RealSteadyClock());

  // Takes a token; returns the wait before it may be used (zero when available now).
  std::chrono::nanoseconds Reserve();
  // Takes a token only if one is available now.
  bool TryAccept();
  // Reserve() then sleep for the returned delay.
  void Wait();

 private:
  void RefillLocked(std::chrono::steady_clock::time_point now);

  std::mutex mu_;
  const double qps_;
  const double burst_;
  const SteadyClock clock_;
  double tokens_;  // may go negative: tokens promised to waiting callers
  std::chrono::steady_clock::time_point last_;
};

class Backoff {
 public:
  // Delay n (from 0) is min(cap, initial * factor^n), then scaled by a random factor in
  // [1 - jitter, 1] (jitter 0 gives exact delays).
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds cap, double factor = 2.0,
          double jitter = 0.0);
  std::chrono::milliseconds Next();
  void Reset() { attempt_ = 0; }

 private:
  std::chrono::milliseconds initial_, cap_;
  double factor_, jitter_;
  int attempt_ = 0;
  std::minstd_rand rng_{std::random_device{}()};
};

}  // namespace shardwise::kube
