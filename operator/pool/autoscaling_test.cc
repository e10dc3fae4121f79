#include "operator/pool/autoscaling.h"

#include <gtest/gtest.h>

namespace shardwise::pool {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

const Clock::time_point kT0 = Clock::from_time_t(1'800'000'000);

PoolSpec Spec(AutoscalingMode mode) {
  PoolSpec s;
  s.ns = "mon";
  s.name = "main";
  s.shards = 3;
  s.autoscaling = mode;
  s.min_shards = 1;
  s.max_shards = 10;
  s.target_series_per_shard = 1e6;
  s.scale_up_stabilization_seconds = 0;
  return s;
}

autoscale::PoolLoad Load(double series, int shards) {
  autoscale::PoolLoad l;
  l.series = series;
  for (int i = 0; i < shards; ++i) {
    autoscale::ShardLoad s;
    s.index = i;
    s.series = series / shards;
    s.largest_target_series = 1000;
    l.shards.push_back(s);
  }
  return l;
}

TEST(PoolAutoscalingTest, OperatorModeScalesWithFiguresInStatusAndEvent) {
  PoolAutoscaling a;
  PoolSpec spec = Spec(AutoscalingMode::kOperator);
  autoscale::PoolLoad load = Load(4.1e6, 3);
  PoolAutoscaling::Output out = a.Step({&spec, &load, false, false, {}, kT0, {}});
  ASSERT_TRUE(out.scale_to.has_value());
  EXPECT_EQ(*out.scale_to, 5);
  PoolAutoscaling::Event ev = a.Committed(3, 5, out.scale_reason, kT0);
  EXPECT_EQ(ev.reason, "AutoscaledShards");
  EXPECT_EQ(ev.message, "scraper shards 3 -> 5: 4.1M series over a target of 1M per shard");
  nlohmann::json st = a.Status();
  EXPECT_EQ(st["mode"], "Operator");
  EXPECT_EQ(st["desiredShards"], 5);
  EXPECT_EQ(st["lastScaleTime"], "2027-01-15T08:00:00Z");
  EXPECT_EQ(st["lastScaleReason"], "3 -> 5: 4.1M series over a target of 1M per shard");
  ASSERT_EQ(st["recommendations"].size(), 1u);
  EXPECT_EQ(st["recommendations"][0]["shards"], 5);
}

TEST(PoolAutoscalingTest, HpaModeNeverWrites) {
  PoolAutoscaling a;
  PoolSpec spec = Spec(AutoscalingMode::kHpa);
  autoscale::PoolLoad load = Load(9e6, 3);
  for (int i = 0; i < 5; ++i) {
    auto out = a.Step({&spec, &load, false, false, {"mon/hpa"}, kT0 + i * 10s, {}});
    EXPECT_FALSE(out.scale_to.has_value());
    for (const auto& c : out.conditions) {
      if (c.type == "AutoscalingConflict") {
        EXPECT_FALSE(c.status);
      }
    }
  }
  EXPECT_EQ(a.Status()["mode"], "HPA");
}

TEST(PoolAutoscalingTest, HpaOnAnOperatorModePoolIsAConflictReportedOnce) {
  PoolAutoscaling a;
  PoolSpec spec = Spec(AutoscalingMode::kOperator);
  autoscale::PoolLoad load = Load(9e6, 3);
  int events = 0;
  for (int i = 0; i < 5; ++i) {
    auto out = a.Step({&spec, &load, false, false, {"mon/scrapers"}, kT0 + i * 10s, {}});
    EXPECT_FALSE(out.scale_to.has_value());
    for (const auto& e : out.events) {
      if (e.reason == "AutoscalingConflict") ++events;
    }
    bool found = false;
    for (const auto& c : out.conditions) {
      if (c.type == "AutoscalingConflict") {
        found = true;
        EXPECT_TRUE(c.status);
        EXPECT_EQ(c.reason, "HPAInOperatorMode");
      }
    }
    EXPECT_TRUE(found);
  }
  EXPECT_EQ(events, 1);
  EXPECT_EQ(a.Status()["held"], "conflict with an HPA");
}

TEST(PoolAutoscalingTest, TooLargeTargetIsAConditionAndOneEvent) {
  PoolAutoscaling a;
  PoolSpec spec = Spec(AutoscalingMode::kOff);
  autoscale::PoolLoad load = Load(3e6, 3);
  load.shards[2].largest_target_series = 1.5e6;
  int events = 0;
  for (int i = 0; i < 3; ++i) {
    auto out = a.Step({&spec, &load, false, false, {}, kT0 + i * 10s, {}});
    events += static_cast<int>(out.events.size());
    ASSERT_EQ(out.conditions.size(), 1u);
    EXPECT_EQ(out.conditions[0].type, "TargetsFitShards");
    EXPECT_FALSE(out.conditions[0].status);
    EXPECT_EQ(out.conditions[0].reason, "TargetTooLarge");
  }
  EXPECT_EQ(events, 1);
  EXPECT_TRUE(a.Status().is_null());
}

TEST(PoolAutoscalingTest, LastScaleSurvivesARestartThroughStatus) {
  PoolAutoscaling a;
  PoolSpec spec = Spec(AutoscalingMode::kOperator);
  autoscale::PoolLoad load = Load(2.5e6, 3);
  nlohmann::json prev = {{"lastScaleTime", "2027-01-01T00:00:00Z"},
                         {"lastScaleReason", "2 -> 3: x"}};
  a.Step({&spec, &load, false, false, {}, kT0, prev});
  EXPECT_EQ(a.Status()["lastScaleTime"], "2027-01-01T00:00:00Z");
}

}  // namespace
}  // namespace shardwise::pool
