#include "scraper/scrape/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <vector>

namespace shardwise::scrape {
namespace {

using namespace std::chrono_literals;

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::yield();
  }
  return pred();
}

TEST(SchedulerTest, RunsTimersInTimeOrder) {
  Scheduler s(1);
  std::mutex mu;
  std::vector<int> order;
  auto now = Scheduler::Clock::now();
  for (int i : {3, 1, 2}) {
    s.At(now + std::chrono::milliseconds(10 * i), [&, i] {
      std::lock_guard lock(mu);
      order.push_back(i);
    });
  }
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return order.size() == 3;
  }));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(SchedulerTest, NotBeforeItsTime) {
  Scheduler s(1);
  std::atomic<bool> ran{false};
  auto when = Scheduler::Clock::now() + 50ms;
  std::atomic<int64_t> ran_at{0};
  s.At(when, [&] {
    ran_at = Scheduler::Clock::now().time_since_epoch().count();
    ran = true;
  });
  ASSERT_TRUE(WaitFor([&] { return ran.load(); }));
  EXPECT_GE(ran_at.load(), when.time_since_epoch().count());
}

TEST(SchedulerTest, WorkersRunPostedWork) {
  Scheduler s(2);
  std::atomic<int> n{0};
  for (int i = 0; i < 100; ++i) s.Post([&] { ++n; });
  ASSERT_TRUE(WaitFor([&] { return n.load() == 100; }));
}

TEST(SchedulerTest, StopDropsPendingTimers) {
  std::atomic<bool> ran{false};
  Scheduler s(1);
  s.At(Scheduler::Clock::now() + 1h, [&] { ran = true; });
  EXPECT_EQ(s.pending_timers(), 1u);
  s.Stop();
  EXPECT_EQ(s.pending_timers(), 0u);
  s.At(Scheduler::Clock::now(), [&] { ran = true; });  // ignored after Stop
  s.Post([&] { ran = true; });
  EXPECT_FALSE(ran.load());
}

}  // namespace
}  // namespace shardwise::scrape
