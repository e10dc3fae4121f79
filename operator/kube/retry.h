// RetryOnConflict: the optimistic-concurrency loop for read-modify-write updates.
// `attempt` re-reads the object, applies its change and writes it with the resourceVersion
// it read; when the write loses a race (409 Conflict) it is run again after a short,
// growing delay — client-go's retry.DefaultRetry: 5 attempts, 10 ms ×1 (jittered).
// Any other outcome (success or another error) is returned at once.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

#include "operator/kube/api_error.h"
#include "operator/kube/rate_limiter.h"

namespace shardwise::kube {

struct RetryPolicy {
  int attempts = 5;
  std::chrono::milliseconds initial{10};
  std::chrono::milliseconds cap{1000};
  double factor = 1.5;
};

template <typename T>
ApiResult<T> RetryOnConflict(const RetryPolicy& policy,
                             const std::function<ApiResult<T>()>& attempt) {
  Backoff backoff(policy.initial, policy.cap, policy.factor, 0.1);
  for (int i = 1;; ++i) {
    ApiResult<T> result = attempt();
    if (result.ok() || !result.error().IsConflict() || i >= policy.attempts) return result;
    std::this_thread::sleep_for(backoff.Next());
  }
}

}  // namespace shardwise::kube
