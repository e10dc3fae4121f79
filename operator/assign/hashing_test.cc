#include "operator/assign/hashing.h"

#include <gtest/gtest.h>

#include <vector>

namespace shardwise::assign {
namespace {

TEST(JumpHashTest, GrowingMovesKeysOnlyIntoTheNewBucket) {
  for (uint32_t n = 1; n < 200; n += 7) {
    int moved = 0;
    for (uint64_t i = 0; i < 20000; ++i) {
      const uint64_t key = Mix64(i);
      const uint32_t before = JumpHash(key, n);
      const uint32_t after = JumpHash(key, n + 1);
      ASSERT_LT(before, n);
      if (after != before) {
        ASSERT_EQ(after, n);
        ++moved;
      }
    }
    // About 1/(n+1) of the keys move.
    EXPECT_NEAR(moved / 20000.0, 1.0 / (n + 1), 0.02) << n;
  }
}

TEST(JumpHashTest, SpreadsEvenly) {
  std::vector<int> count(10, 0);
  for (uint64_t i = 0; i < 100000; ++i) ++count[JumpHash(Mix64(i), 10)];
  for (int c : count) EXPECT_NEAR(c, 10000, 500);
}

TEST(JumpHashTest, PinnedValues) {
  // Homes are compared across operator versions; the hash must never change.
  EXPECT_EQ(JumpHash(0, 1), 0u);
  EXPECT_EQ(JumpHash(1, 1000), JumpHash(1, 1000));
  std::vector<uint32_t> got;
  for (uint64_t key : {1ULL, 42ULL, 0xDEADBEEFULL}) got.push_back(JumpHash(key, 100));
  // Values from an independent Python transcription of the published algorithm.
  EXPECT_EQ(got, (std::vector<uint32_t>{55, 43, 87}));
}

TEST(ProbeKeyTest, ProbeZeroIsTheIdAndOthersDiffer) {
  EXPECT_EQ(ProbeKey(12345, 0), 12345u);
  EXPECT_NE(ProbeKey(12345, 1), ProbeKey(12345, 2));
  EXPECT_NE(ProbeKey(12345, 1), ProbeKey(12346, 1));
}

}  // namespace
}  // namespace shardwise::assign
