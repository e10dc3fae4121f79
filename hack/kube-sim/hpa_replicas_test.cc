// Table-driven checks of the HPA arithmetic against kube-api.md §14.
#include "hack/kube-sim/hpa_replicas.h"

#include <gtest/gtest.h>

namespace shardwise::kubesim::hpa {
namespace {

PodSample Pod(std::string name, std::optional<int64_t> value, bool pending = false,
              bool ignored = false) {
  PodSample p;
  p.name = std::move(name);
  p.value = value;
  p.pending = pending;
  p.ignored = ignored;
  return p;
}

TEST(HpaReplicasTest, PodsMetric) {
  struct Case {
    const char* what;
    long current;
    int64_t target;
    std::vector<PodSample> pods;
    long want;
  };
  const int64_t k = 1000;  // one unit in milli-units
  std::vector<Case> cases = {
      {"within tolerance keeps current",
       3,
       10 * k,
       {Pod("a", 10 * k), Pod("b", 11 * k), Pod("c", 9 * k)},
       3},
      {"ratio 2 doubles", 2, 10 * k, {Pod("a", 20 * k), Pod("b", 20 * k)}, 4},
      {"ratio 0.5 halves",
       4,
       10 * k,
       {Pod("a", 5 * k), Pod("b", 5 * k), Pod("c", 5 * k), Pod("d", 5 * k)},
       2},
      {"missing pod counts as target on scale-down",
       3,
       10 * k,
       {Pod("a", 2 * k), Pod("b", 2 * k), Pod("c", std::nullopt)},
       2},
      {"missing pod counts as 0 on scale-up",
       3,
       10 * k,
       {Pod("a", 30 * k), Pod("b", 30 * k), Pod("c", std::nullopt)},
       6},
      {"unready pods count as 0 on scale-up",
       4,
       10 * k,
       {Pod("a", 30 * k), Pod("b", 30 * k), Pod("c", std::nullopt, true), Pod("d", 50 * k, true)},
       6},
      {"unready pods are dropped on scale-down",
       3,
       10 * k,
       {Pod("a", 5 * k), Pod("b", 5 * k), Pod("c", std::nullopt, true)},
       1},
      {"deleted or failed pods are ignored",
       2,
       10 * k,
       {Pod("a", 20 * k), Pod("b", 1000 * k, false, true)},
       2},
      {"a direction flip keeps current", 2, 10 * k, {Pod("a", 12 * k), Pod("b", std::nullopt)}, 2},
      {"milli-unit values", 1, 500, {Pod("a", 1500)}, 3},
  };
  for (const auto& c : cases) {
    std::string error;
    auto p = PodsMetricReplicas(c.current, c.target, c.pods, &error);
    ASSERT_TRUE(p.has_value()) << c.what << ": " << error;
    EXPECT_EQ(p->replicas, c.want) << c.what;
  }
}

TEST(HpaReplicasTest, PodsMetricErrors) {
  std::string error;
  EXPECT_FALSE(PodsMetricReplicas(1, 1000, {}, &error).has_value());
  EXPECT_EQ(error, "no pods returned by selector while calculating replica count");
  EXPECT_FALSE(PodsMetricReplicas(1, 1000, {Pod("a", std::nullopt, true)}, &error).has_value());
  EXPECT_EQ(error, "did not receive metrics for targeted pods (pods might be unready)");
}

TEST(HpaReplicasTest, PodsMetricReportsTheAverage) {
  std::string error;
  auto p = PodsMetricReplicas(2, 500000, {Pod("a", 400000), Pod("b", 500000)}, &error);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->usage, 450000);
  EXPECT_EQ(p->replicas, 2);
}

TEST(HpaReplicasTest, ObjectAndExternalMetrics) {
  struct Case {
    const char* what;
    long current;
    int64_t usage, target;
    long ready;
    long want;
  } cases[] = {
      {"value ratio 3 over ready pods", 2, 300, 100, 2, 6},
      {"value within tolerance", 2, 105, 100, 2, 2},
      {"value with no replicas scales from the ratio", 0, 250, 100, 0, 3},
      {"value ratio uses ready pods, not current", 4, 200, 100, 1, 2},
  };
  for (const auto& c : cases)
    EXPECT_EQ(ValueMetricReplicas(c.current, c.usage, c.target, c.ready).replicas, c.want)
        << c.what;

  Proposal p = AverageValueMetricReplicas(2, 900, 100);
  EXPECT_EQ(p.replicas, 9) << "ceil(value / averageValue)";
  EXPECT_EQ(p.usage, 450);
  p = AverageValueMetricReplicas(2, 210, 100);
  EXPECT_EQ(p.replicas, 2) << "within tolerance keeps status.replicas";
  EXPECT_EQ(p.usage, 105);
}

TEST(HpaReplicasTest, ScaleUpLimits) {
  struct Case {
    const char* what;
    long current;
    Rules rules;
    std::deque<ScaleEvent> ups, downs;
    long want;
  };
  Rules dflt = DefaultScaleUp();
  Rules min_policy = dflt;
  min_policy.select_policy = "Min";
  Rules disabled = dflt;
  disabled.select_policy = "Disabled";
  std::vector<Case> cases = {
      {"defaults: 4 pods beat 100% at 2", 2, dflt, {}, {}, 6},
      {"defaults: 100% beats 4 pods at 10", 10, dflt, {}, {}, 20},
      {"Min picks the smaller change", 10, min_policy, {}, {}, 14},
      {"Disabled freezes", 10, disabled, {}, {}, 10},
      {"additions in the period count against it", 6, dflt, {{4, 95}}, {}, 6},
      {"additions older than the period do not", 6, dflt, {{4, 80}}, {}, 12},
      {"removals in the period raise the base", 4, dflt, {}, {{2, 95}}, 12},
  };
  for (const auto& c : cases) {
    History h;
    h.ups = c.ups;
    h.downs = c.downs;
    EXPECT_EQ(ScaleUpLimit(c.current, h, c.rules, 100), c.want) << c.what;
  }
}

TEST(HpaReplicasTest, ScaleDownLimits) {
  Rules dflt = DefaultScaleDown();
  Rules one_pod{0, "Max", {{"Pods", 1, 60}}};
  Rules both{0, "Max", {{"Pods", 1, 60}, {"Percent", 50, 60}}};
  Rules both_min = both;
  both_min.select_policy = "Min";
  History none;
  EXPECT_EQ(ScaleDownLimit(10, none, dflt, 100), 0) << "100% may remove everything";
  EXPECT_EQ(ScaleDownLimit(10, none, one_pod, 100), 9);
  EXPECT_EQ(ScaleDownLimit(10, none, both, 100), 5) << "Max: the larger change";
  EXPECT_EQ(ScaleDownLimit(10, none, both_min, 100), 9) << "Min: the smaller change";
  EXPECT_EQ(ScaleDownLimit(5, none, Rules{0, "Max", {{"Percent", 50, 60}}}, 100), 2)
      << "the floor of 2.5";
  History recent;
  recent.downs = {{1, 90}};
  EXPECT_EQ(ScaleDownLimit(9, recent, one_pod, 100), 9) << "one pod per minute already used";
}

TEST(HpaReplicasTest, BehaviorStabilizesAndLimits) {
  Rules up = DefaultScaleUp();
  Rules down = DefaultScaleDown();
  down.stabilization_window_seconds = 30;
  History h;
  Normalized n = NormalizeWithBehavior(5, 5, 1, 10, up, down, 0, h);
  EXPECT_EQ(n.replicas, 5);
  EXPECT_EQ(n.able_reason, "ReadyForNewScale");
  n = NormalizeWithBehavior(5, 2, 1, 10, up, down, 10, h);
  EXPECT_EQ(n.replicas, 5) << "a higher recommendation is inside the window";
  EXPECT_EQ(n.able_reason, "ScaleDownStabilized");
  EXPECT_FALSE(n.limited);
  n = NormalizeWithBehavior(5, 2, 1, 10, up, down, 35, h);
  EXPECT_EQ(n.replicas, 2) << "the window passed";
  EXPECT_EQ(n.limited_reason, "DesiredWithinRange");

  History h2;
  n = NormalizeWithBehavior(2, 20, 1, 10, up, down, 0, h2);
  EXPECT_EQ(n.replicas, 6);
  EXPECT_TRUE(n.limited);
  EXPECT_EQ(n.limited_reason, "ScaleUpLimit");
  History h3;
  n = NormalizeWithBehavior(8, 20, 1, 10, up, down, 0, h3);
  EXPECT_EQ(n.replicas, 10);
  EXPECT_EQ(n.limited_reason, "TooManyReplicas");

  Rules slow_up{60, "Max", {{"Pods", 4, 15}}};
  History h4;
  NormalizeWithBehavior(2, 2, 1, 10, slow_up, down, 0, h4);
  n = NormalizeWithBehavior(2, 6, 1, 10, slow_up, down, 10, h4);
  EXPECT_EQ(n.replicas, 2) << "a lower recommendation is inside the scale-up window";
  EXPECT_EQ(n.able_reason, "ScaleUpStabilized");
}

TEST(HpaReplicasTest, LegacyRules) {
  History h;
  Normalized n = NormalizeLegacy(3, 10, 1, 20, 0, 300, h);
  EXPECT_EQ(n.replicas, 6) << "max(2 x current, 4)";
  EXPECT_EQ(n.limited_reason, "ScaleUpLimit");
  n = NormalizeLegacy(6, 1, 1, 20, 10, 300, h);
  EXPECT_EQ(n.replicas, 10) << "the highest recommendation of the last 300 s";
  EXPECT_EQ(n.able_reason, "ScaleDownStabilized");
  n = NormalizeLegacy(6, 0, 2, 20, 400, 300, h);
  EXPECT_EQ(n.replicas, 2);
  EXPECT_EQ(n.limited_reason, "TooFewReplicas");
}

TEST(HpaReplicasTest, RecordScaleKeepsTheLongestPeriod) {
  History h;
  Rules up = DefaultScaleUp(), down = DefaultScaleDown();
  RecordScale(h, 2, 6, 0, up, down);
  RecordScale(h, 6, 4, 10, up, down);
  EXPECT_EQ(h.ups.size(), 1u);
  EXPECT_EQ(h.downs.size(), 1u);
  RecordScale(h, 4, 5, 20, up, down);
  EXPECT_EQ(h.ups.size(), 1u) << "the first scale-up left the 15 s period";
  EXPECT_EQ(h.ups.front().change, 1);
}

}  // namespace
}  // namespace shardwise::kubesim::hpa
