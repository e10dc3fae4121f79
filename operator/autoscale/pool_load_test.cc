#include "operator/autoscale/pool_load.h"

#include <gtest/gtest.h>

namespace shardwise::autoscale {
namespace {

using namespace std::chrono_literals;
using endpoint::ReportStore;
using endpoint::ShardKey;

const Clock::time_point kNow = Clock::from_time_t(1'800'000'000);

ReportStore::Entry Report(int shard, std::vector<std::pair<uint64_t, double>> targets, double sps,
                          Clock::time_point at = kNow) {
  ReportStore::Entry e;
  e.received = at;
  e.report.shard = shard;
  e.report.samples_per_second = sps;
  for (auto [id, series] : targets) {
    e.report.per_target.push_back({id, series, 1, ""});
    e.report.active_series += series;
  }
  return e;
}

TEST(PoolLoadTest, TargetInHandoffCountsOnce) {
  std::map<ShardKey, ReportStore::Entry> reports;
  // Target 3 (300 series) is moving from shard 0 to shard 1: both report it.
  reports[{"ns", "main", 0, 0}] = Report(0, {{1, 100}, {3, 300}}, 40);
  reports[{"ns", "main", 1, 0}] = Report(1, {{2, 200}, {3, 300}}, 50);
  reports[{"other", "main", 0, 0}] = Report(0, {{9, 999}}, 1);
  reports[{"ns", "main", 2, 0}] = Report(2, {{4, 400}}, 10, kNow - 2min);  // stale
  PoolLoad load = MeasurePool(reports, "ns", "main", kNow, 45s);
  EXPECT_DOUBLE_EQ(load.series, 600);
  EXPECT_DOUBLE_EQ(load.samples_per_second, 90 * 600.0 / 900.0);
  ASSERT_EQ(load.shards.size(), 2u);
  EXPECT_EQ(load.shards[1].index, 1);
  EXPECT_DOUBLE_EQ(load.shards[1].largest_target_series, 300);
  ASSERT_EQ(load.pods.size(), 2u);
  EXPECT_EQ(load.pods[0].name, "shardwise-main-0-0");
  EXPECT_DOUBLE_EQ(load.pods[0].head_series, 400);
}

TEST(PoolLoadTest, ReplicasOfAShardCountOnceButEachPodIsListed) {
  std::map<ShardKey, ReportStore::Entry> reports;
  reports[{"ns", "main", 0, 0}] = Report(0, {{1, 100}}, 10, kNow - 5s);
  reports[{"ns", "main", 0, 1}] = Report(0, {{1, 110}}, 11);
  PoolLoad load = MeasurePool(reports, "ns", "main", kNow, 45s);
  EXPECT_DOUBLE_EQ(load.series, 110);
  EXPECT_DOUBLE_EQ(load.samples_per_second, 11);
  EXPECT_EQ(load.shards.size(), 1u);
  EXPECT_EQ(load.pods.size(), 2u);
}

}  // namespace
}  // namespace shardwise::autoscale
