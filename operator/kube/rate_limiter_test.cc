#include "operator/kube/rate_limiter.h"

#include <gtest/gtest.h>

namespace shardwise::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::seconds(1000)};
  SteadyClock fn() {
    return [this] { return now; };
  }
};

TEST(TokenBucketTest, BurstIsAvailableAtOnceThenRefillsAtQps) {
  FakeClock clock;
  TokenBucket bucket(10, 3, clock.fn());
  EXPECT_TRUE(bucket.TryAccept());
  EXPECT_TRUE(bucket.TryAccept());
  EXPECT_TRUE(bucket.TryAccept());
  EXPECT_FALSE(bucket.TryAccept());
  clock.now += milliseconds(100);  // one token at 10 qps
  EXPECT_TRUE(bucket.TryAccept());
  EXPECT_FALSE(bucket.TryAccept());
  clock.now += std::chrono::seconds(60);  // refills only up to the burst
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.TryAccept());
  EXPECT_FALSE(bucket.TryAccept());
}

TEST(TokenBucketTest, ReserveQueuesWaitersInOrder) {
  FakeClock clock;
  TokenBucket bucket(10, 1, clock.fn());
  EXPECT_EQ(bucket.Reserve(), nanoseconds(0));
  EXPECT_EQ(bucket.Reserve(), milliseconds(100));
  EXPECT_EQ(bucket.Reserve(), milliseconds(200));
  clock.now += milliseconds(200);
  EXPECT_EQ(bucket.Reserve(), milliseconds(100));
  EXPECT_FALSE(bucket.TryAccept());
}

TEST(TokenBucketTest, ZeroQpsIsUnlimited) {
  TokenBucket bucket(0, 1);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(bucket.Reserve(), nanoseconds(0));
}

TEST(BackoffTest, DoublesUpToTheCap) {
  Backoff backoff(milliseconds(100), milliseconds(1000));
  EXPECT_EQ(backoff.Next(), milliseconds(100));
  EXPECT_EQ(backoff.Next(), milliseconds(200));
  EXPECT_EQ(backoff.Next(), milliseconds(400));
  EXPECT_EQ(backoff.Next(), milliseconds(800));
  EXPECT_EQ(backoff.Next(), milliseconds(1000));
  EXPECT_EQ(backoff.Next(), milliseconds(1000));
  backoff.Reset();
  EXPECT_EQ(backoff.Next(), milliseconds(100));
}

TEST(BackoffTest, JitterOnlyShortens) {
  Backoff backoff(milliseconds(1000), milliseconds(1000), 2.0, 0.5);
  for (int i = 0; i < 100; ++i) {
    const auto delay = backoff.Next();
    EXPECT_GE(delay, milliseconds(500));
    EXPECT_LE(delay, milliseconds(1000));
  }
}

}  // namespace
}  // namespace shardwise::kube
