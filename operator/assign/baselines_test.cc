#include "operator/assign/baselines.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace shardwise::assign {
namespace {

TEST(PrometheusHashmodTest, MatchesPrometheus) {
  // md5("") = d41d8cd98f00b204e9800998ecf8427e; Prometheus' sum64 keeps the last 8 bytes.
  EXPECT_EQ(PrometheusHashmod("", uint64_t{1} << 63), 0xe9800998ecf8427eULL % (uint64_t{1} << 63));
  // md5("10.0.0.1:9100") computed independently with md5sum.
  EXPECT_EQ(PrometheusHashmod("10.0.0.1:9100", 1000003), 0x4cfeac4083628b3dULL % 1000003);
  for (uint64_t n : {1u, 2u, 7u, 100u}) EXPECT_LT(PrometheusHashmod("10.0.0.1:9100", n), n);
}

TEST(PartitionRingTest, SpreadsPartitionsWithinTheLoadFactor) {
  std::vector<std::string> members;
  for (int i = 0; i < 10; ++i) members.push_back("collector-" + std::to_string(i));
  PartitionRing ring(members);
  std::vector<int> count(members.size(), 0);
  for (int i = 0; i < 100000; ++i) ++count[ring.Locate("http://10.0.0." + std::to_string(i))];
  for (int c : count) {
    EXPECT_GT(c, 0);
    // ceil(1061 / 10 × 1.1) = 117 partitions at most, ~94 targets each.
    EXPECT_LE(c, 117 * 100000 / 1061 + 2000);
  }
}

TEST(PartitionRingTest, SameMembersSameOwners) {
  std::vector<std::string> members = {"a", "b", "c"};
  PartitionRing one(members);
  PartitionRing two(members);
  for (int i = 0; i < 1000; ++i) {
    const std::string key = std::to_string(i);
    EXPECT_EQ(one.Locate(key), two.Locate(key));
  }
}

}  // namespace
}  // namespace shardwise::assign
