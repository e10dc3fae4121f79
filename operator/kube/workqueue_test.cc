#include "operator/kube/workqueue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

namespace shardwise::kube {
namespace {

using std::chrono::milliseconds;

TEST(WorkQueueTest, DeduplicatesQueuedItems) {
  WorkQueue queue;
  queue.Add("a");
  queue.Add("b");
  queue.Add("a");
  EXPECT_EQ(queue.Len(), 2u);
  EXPECT_EQ(queue.Get(), "a");
  EXPECT_EQ(queue.Get(), "b");
  EXPECT_EQ(queue.Len(), 0u);
}

TEST(WorkQueueTest, ItemAddedWhileProcessingWaitsForDone) {
  WorkQueue queue;
  queue.Add("a");
  ASSERT_EQ(queue.Get(), "a");
  queue.Add("a");  // changed again while a worker holds it
  queue.Add("a");
  EXPECT_EQ(queue.Len(), 0u);
  EXPECT_EQ(queue.GetFor(milliseconds(20)), std::nullopt);  // not handed to a second worker
  queue.Done("a");
  EXPECT_EQ(queue.Len(), 1u);  // re-queued exactly once
  EXPECT_EQ(queue.Get(), "a");
  queue.Done("a");
  EXPECT_EQ(queue.Len(), 0u);
}

TEST(WorkQueueTest, NoTwoWorkersEverHoldTheSameItem) {
  WorkQueue queue;
  std::mutex mu;
  std::map<std::string, int> holders;
  std::atomic<int> violations{0}, processed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto item = queue.Get()) {
        {
          std::lock_guard lock(mu);
          if (++holders[*item] > 1) ++violations;
        }
        std::this_thread::yield();
        {
          std::lock_guard lock(mu);
          --holders[*item];
        }
        ++processed;
        queue.Done(*item);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) queue.Add("key-" + std::to_string(i % 5));
  queue.ShutDownWithDrain();
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GE(processed.load(), 5);
  EXPECT_LE(processed.load(), 2000);
}

TEST(WorkQueueTest, AddAfterDeliversLaterAndEarliestWins) {
  WorkQueue queue;
  queue.AddAfter("slow", std::chrono::hours(1));
  queue.AddAfter("slow", milliseconds(30));  // an earlier time replaces the later one
  queue.AddAfter("fast", milliseconds(1));
  EXPECT_EQ(queue.Len(), 0u);
  EXPECT_EQ(queue.GetFor(milliseconds(5000)), "fast");
  EXPECT_EQ(queue.GetFor(milliseconds(5000)), "slow");
  EXPECT_EQ(queue.GetFor(milliseconds(50)), std::nullopt);  // delivered once
}

TEST(WorkQueueTest, AddRateLimitedBacksOffPerItemUntilForget) {
  ItemRateLimiter limiter(
      {.base_delay = milliseconds(5), .max_delay = milliseconds(40), .qps = 0, .burst = 1});
  EXPECT_EQ(limiter.When("a"), milliseconds(5));
  EXPECT_EQ(limiter.When("a"), milliseconds(10));
  EXPECT_EQ(limiter.When("a"), milliseconds(20));
  EXPECT_EQ(limiter.When("a"), milliseconds(40));
  EXPECT_EQ(limiter.When("a"), milliseconds(40));
  EXPECT_EQ(limiter.When("b"), milliseconds(5));  // per item
  EXPECT_EQ(limiter.NumRequeues("a"), 5);
  limiter.Forget("a");
  EXPECT_EQ(limiter.NumRequeues("a"), 0);
  EXPECT_EQ(limiter.When("a"), milliseconds(5));

  WorkQueue queue({.base_delay = milliseconds(1), .max_delay = milliseconds(10)});
  queue.AddRateLimited("x");
  EXPECT_EQ(queue.NumRequeues("x"), 1);
  EXPECT_EQ(queue.GetFor(milliseconds(5000)), "x");
  queue.Forget("x");
  EXPECT_EQ(queue.NumRequeues("x"), 0);
}

TEST(WorkQueueTest, OverallBucketLimitsEveryItem) {
  ItemRateLimiter limiter(
      {.base_delay = milliseconds(0), .max_delay = milliseconds(0), .qps = 10, .burst = 2});
  EXPECT_EQ(limiter.When("a").count(), 0);
  EXPECT_EQ(limiter.When("b").count(), 0);
  EXPECT_GT(limiter.When("c"), milliseconds(50));  // third distinct item waits on the bucket
}

TEST(WorkQueueTest, ShutDownDrainsThenReturnsNullopt) {
  WorkQueue queue;
  queue.Add("a");
  queue.ShutDown();
  queue.Add("b");  // ignored after shutdown
  EXPECT_TRUE(queue.ShuttingDown());
  EXPECT_EQ(queue.Get(), "a");
  EXPECT_EQ(queue.Get(), std::nullopt);
}

TEST(WorkQueueTest, ShutDownWakesBlockedWorkers) {
  WorkQueue queue;
  std::atomic<bool> returned{false};
  std::thread worker([&] {
    EXPECT_EQ(queue.Get(), std::nullopt);
    returned = true;
  });
  queue.ShutDown();
  worker.join();
  EXPECT_TRUE(returned.load());
}

}  // namespace
}  // namespace shardwise::kube
