// The recommendation over load histories (table-driven): steps, ramps up and down (noisy
// too), noise, single and repeated spikes, oscillation, a lost shard, handoffs, saturation,
// memory pressure, clamping and stabilization. A tiny "cluster" applies each
// decision at once and feeds the next observation, every 10 s of simulated time.
#include "operator/autoscale/recommender.h"

#include <gtest/gtest.h>

#include <functional>

namespace shardwise::autoscale {
namespace {

using namespace std::chrono_literals;

const Clock::time_point kT0 = Clock::from_time_t(1'800'000'000);

struct Change {
  int seconds;  // since kT0
  int from, to;
  double series;  // at that moment
  std::string reason;
};

struct Replayed {
  std::vector<Change> changes;
  std::vector<Recommendation> recs;
  int final_shards = 0;
};

// `series(t)` for t in seconds; `shard_at(t, i, &load)` may adjust each shard's report.
struct History {
  std::function<double(int)> series;
  int seconds = 1800;
  int start_shards = 3;
  std::function<void(int, ShardLoad*)> shard;          // optional
  std::function<void(int, Observation*)> observation;  // optional
};

Policy DefaultPolicy() {
  Policy p;
  p.min_shards = 1;
  p.max_shards = 20;
  p.target_series = 1e6;
  p.scale_up_window = 60s;
  p.scale_down_window = 600s;
  p.trend_window = 300s;
  p.shard_startup = 30s;
  return p;
}

Replayed Replay(const Policy& policy, const History& h) {
  Recommender rec(policy);
  Replayed run;
  int shards = h.start_shards;
  for (int t = 0; t <= h.seconds; t += 10) {
    Observation obs;
    obs.at = kT0 + std::chrono::seconds(t);
    obs.current_shards = shards;
    obs.series = h.series(t);
    obs.samples_per_second = obs.series / 30;
    for (int i = 0; i < shards; ++i) {
      ShardLoad s;
      s.index = i;
      s.series = obs.series / shards;
      s.samples_per_second = obs.samples_per_second / shards;
      s.largest_target_series = 1000;
      s.saturation = 0.3 * s.series / 1e6;  // the scrape budget follows the load
      if (h.shard) h.shard(t, &s);
      obs.shards.push_back(s);
    }
    if (h.observation) h.observation(t, &obs);
    Recommendation r = rec.Observe(obs);
    run.recs.push_back(r);
    if (r.desired != shards) {
      run.changes.push_back({t, shards, r.desired, obs.series, r.reason});
      shards = r.desired;
    }
  }
  run.final_shards = shards;
  return run;
}

// Direction reversals (up then down, or down then up) — what flapping looks like.
int Reversals(const Replayed& run) {
  int reversals = 0, last = 0;
  for (const auto& c : run.changes) {
    int dir = c.to > c.from ? 1 : -1;
    if (last != 0 && dir != last) ++reversals;
    last = dir;
  }
  return reversals;
}

// Deterministic noise in [-1, 1].
double Noise(int t) {
  uint32_t x = static_cast<uint32_t>(t) * 2654435761u ^ 0x9e3779b9u;
  x ^= x >> 15;
  x *= 2246822519u;
  x ^= x >> 13;
  return (x % 20001) / 10000.0 - 1.0;
}

struct Case {
  std::string name;
  History history;
  Policy policy = DefaultPolicy();
  std::vector<std::pair<int, int>> expect;  // (seconds, to) of every change, in order
  int max_reversals = 0;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class RecommenderHistoryTest : public ::testing::TestWithParam<Case> {};

TEST_P(RecommenderHistoryTest, DecidesAsExpected) {
  const Case& c = GetParam();
  Replayed run = Replay(c.policy, c.history);
  std::vector<std::pair<int, int>> got;
  for (const auto& ch : run.changes) got.emplace_back(ch.seconds, ch.to);
  EXPECT_EQ(got, c.expect) << c.name;
  EXPECT_LE(Reversals(run), c.max_reversals);
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  // A step from 2.5M to 4.1M series at t=100: the first observation that completes the
  // 60 s window is t=160; 4.1M / 1M = 5 shards.
  cases.push_back({"step up",
                   {[](int t) { return t < 100 ? 2.5e6 : 4.1e6; }, 600, 3},
                   DefaultPolicy(),
                   {{160, 5}}});
  // The load falls to 1.5M at t=100; 1.5M fits 2 shards at 90% of the target after the
  // 600 s scale-down window.
  cases.push_back({"step down after the window",
                   {[](int t) { return t < 100 ? 4.5e6 : 1.5e6; }, 1200, 5},
                   DefaultPolicy(),
                   {{700, 2}}});
  // A one-report spike to 10M never scales.
  cases.push_back(
      {"spike", {[](int t) { return t == 300 ? 10e6 : 2.5e6; }, 1200, 3}, DefaultPolicy(), {}});
  // ±4% noise around 2.8M with 3 shards: inside the dead band (2.7M..3M), nothing moves.
  cases.push_back({"noise inside the dead band",
                   {[](int t) { return 2.85e6 * (1 + 0.04 * Noise(t)); }, 3600, 3},
                   DefaultPolicy(),
                   {}});
  // Clamping: 25M series with maxShards 8 goes to 8; with minShards 4 an idle pool stays 4.
  {
    Policy p = DefaultPolicy();
    p.max_shards = 8;
    cases.push_back({"clamped to maxShards", {[](int) { return 25e6; }, 300, 3}, p, {{60, 8}}});
    Policy q = DefaultPolicy();
    q.min_shards = 4;
    cases.push_back({"clamped to minShards", {[](int) { return 1e5; }, 1800, 6}, q, {{600, 4}}});
    cases.push_back(
        {"out of bounds moves at once", {[](int) { return 1e5; }, 100, 2}, q, {{0, 4}}});
  }
  // Lost shard: the reports of shard 2 stop at t=200 (its series vanish from the totals)
  // and it is Lost; no scale-down while Lost, and the window restarts when it is back.
  cases.push_back({"lost shard blocks scale-down",
                   {[](int t) { return t >= 200 && t < 1000 ? 1.6e6 : 2.5e6; }, 1500, 3, nullptr,
                    [](int t, Observation* o) { o->shard_lost = t >= 200 && t < 1000; }},
                   DefaultPolicy(),
                   {}});
  cases.push_back({"handoff in flight blocks scale-down",
                   {[](int) { return 1.2e6; }, 1500, 3, nullptr,
                    [](int t, Observation* o) { o->handoff_in_flight = t % 300 < 20; }},
                   DefaultPolicy(),
                   {}});
  // Saturation: shard 1 uses 95% of its scrape budget (threshold 80%) with few series from
  // t=100 to t=400, in proportion to its share of the load: 3 × 0.95/0.8 = 3.56 → 4 shards;
  // at 4 shards (71%) it stays (the utilisation dead band), and 600 s after the pressure
  // ends the 1M series go back to the 2 shards they need.
  cases.push_back({"saturation raises the count",
                   {[](int) { return 1e6; }, 1800, 3,
                    [](int t, ShardLoad* s) {
                      if (s->index == 1 && t >= 100 && t < 400) {
                        s->saturation = 0.95 * s->series / (1e6 / 3);
                      }
                    }},
                   DefaultPolicy(),
                   {{160, 4}, {1000, 2}},
                   1});
  // A target with 2M series (target 1M per shard) saturates its shard: more shards cannot
  // split it, so the count does not climb to maxShards.
  cases.push_back({"a target too large for any shard",
                   {[](int) { return 2.6e6; }, 1800, 3,
                    [](int, ShardLoad* s) {
                      if (s->index == 0) {
                        s->largest_target_series = 2e6;
                        s->saturation = 1.0;
                        s->skipped_ticks = 3;
                      }
                    }},
                   DefaultPolicy(),
                   {}});
  // Spikes to 10M for 30 s every 200 s: each is shorter than the 60 s scale-up window, so
  // none scales (a spike must last the whole window).
  cases.push_back({"repeated spikes shorter than the window",
                   {[](int t) { return t % 200 < 30 ? 10e6 : 2.5e6; }, 1800, 3},
                   DefaultPolicy(),
                   {}});
  // Load alternating 2.5M (150 s) / 4.5M (150 s): the high phases outlast the 60 s scale-up
  // window, so the pool grows once to 5 (at the first high phase's window end); the low
  // phases are shorter than the 600 s scale-down window, so it never shrinks: no flapping.
  cases.push_back({"oscillation faster than the scale-down window",
                   {[](int t) { return (t / 150) % 2 == 1 ? 4.5e6 : 2.5e6; }, 3600, 3},
                   DefaultPolicy(),
                   {{210, 5}}});
  // A noisy ramp (1M -> 4M over 30 min, ±5 %): only steps up, each before the load reaches
  // the current capacity (the trend still fits through the noise: 1.89M < 2M at 580 s,
  // 2.81M < 3M at 1140 s), and the noisy plateau at 4M stays at 4: never a reversal.
  cases.push_back(
      {"noisy ramp steps up only",
       {[](int t) { return (1e6 + 3e6 * std::min(t, 1800) / 1800.0) * (1 + 0.05 * Noise(t)); },
        2400, 2},
       DefaultPolicy(),
       {{580, 3}, {1140, 4}}});
  // A ramp down (4.5M -> 1M over 20 min): steps down one at a time, each to the largest
  // recommendation of the last 600 s (so the fleet follows the load a window behind and never
  // undershoots it), never back up; 1M fits 2 shards at 90 % of the target.
  cases.push_back({"ramp down steps down after each window",
                   {[](int t) { return 4.5e6 - 3.5e6 * std::min(t, 1200) / 1200.0; }, 3600, 5},
                   DefaultPolicy(),
                   {{910, 4}, {1220, 3}, {1530, 2}}});
  // Memory: shard 1 at 95 % of its pod's memory limit from t=100 to t=500 (threshold 85 %),
  // not falling when its targets move away (as a scraper's head keeps their series):
  // 3 × 0.95/0.85 = 3.4 → 4 shards after the scale-up window and no further (relative to the
  // count when the pressure began); once it is gone, the 1M series go back to the 2 shards
  // they need after the scale-down window.
  cases.push_back({"memory near the pod limit raises the count",
                   {[](int) { return 1e6; }, 1800, 3,
                    [](int t, ShardLoad* s) {
                      s->memory_limit_bytes = 1e9;
                      s->memory_bytes = s->index == 1 && t >= 100 && t < 500 ? 950e6 : 300e6;
                    }},
                   DefaultPolicy(),
                   {{160, 4}, {1100, 2}},
                   1});
  // Memory that stays above the threshold all along: one step, then it holds (no climb to
  // maxShards, no scale-down while the pressure lasts).
  cases.push_back({"memory pressure that does not ease holds one step",
                   {[](int) { return 1e6; }, 1800, 3,
                    [](int, ShardLoad* s) {
                      s->memory_limit_bytes = 1e9;
                      s->memory_bytes = s->index == 1 ? 950e6 : 300e6;
                    }},
                   DefaultPolicy(),
                   {{60, 4}}});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Histories, RecommenderHistoryTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) {
                           std::string n;
                           for (char ch : info.param.name) n += std::isalnum(ch) ? ch : '_';
                           return n;
                         });

// A steady ramp of 100k series/min from 1M: with the trend, every step happens before the
// load crosses the current capacity; without it (r² threshold unreachable), after.
TEST(RecommenderTest, ScalesAheadOfASteadyRamp) {
  History h{[](int t) { return 1e6 + 100e3 * t / 60.0; }, 2400, 2};
  Policy with = DefaultPolicy();
  Policy without = DefaultPolicy();
  without.min_trend_r2 = 2;  // never fits
  Replayed early = Replay(with, h);
  Replayed late = Replay(without, h);
  ASSERT_GE(early.changes.size(), 3u);
  for (const auto& c : early.changes) {
    EXPECT_LT(c.series, c.from * 1e6) << "at " << c.seconds << "s: " << c.reason;
  }
  EXPECT_NE(early.changes[0].reason.find("series growing 100k/min"), std::string::npos)
      << early.changes[0].reason;
  ASSERT_FALSE(late.changes.empty());
  for (const auto& c : late.changes) EXPECT_GT(c.series, c.from * 1e6);
  EXPECT_LT(early.changes[0].seconds, late.changes[0].seconds);
}

// ±3% noise around exactly the 3-shard boundary: at most one step up (once six consecutive
// reports exceed 3M) and never back down (2.91M..3.09M never fits 3 shards at 90% of the
// target): no flapping.
TEST(RecommenderTest, NoiseOnTheBoundaryStepsAtMostOnce) {
  History h{[](int t) { return 3.0e6 * (1 + 0.03 * Noise(t)); }, 7200, 3};
  Replayed run = Replay(DefaultPolicy(), h);
  ASSERT_LE(run.changes.size(), 1u);
  if (!run.changes.empty()) {
    EXPECT_EQ(run.changes[0].to, 4);
  }
}

// Noise on a flat load never passes the trend fit.
TEST(RecommenderTest, NoTrendFromNoise) {
  History h{[](int t) { return 2.7e6 * (1 + 0.05 * Noise(t)); }, 3600, 3};
  Replayed run = Replay(DefaultPolicy(), h);
  for (const auto& r : run.recs) EXPECT_EQ(r.reason.find("growing"), std::string::npos);
}

TEST(RecommenderTest, ReasonCarriesTheFigures) {
  Recommender rec(DefaultPolicy());
  Observation o;
  o.current_shards = 3;
  o.series = 4.1e6;
  o.shards = {{0}, {1}, {2}};
  Recommendation r;
  for (int t = 0; t <= 60; t += 10) {
    o.at = kT0 + std::chrono::seconds(t);
    r = rec.Observe(o);
    if (t < 60) {
      EXPECT_EQ(r.desired, 3);
      EXPECT_NE(r.held.find("60s stabilization window"), std::string::npos);
    }
  }
  EXPECT_EQ(r.desired, 5);
  EXPECT_EQ(r.reason, "4.1M series over a target of 1M per shard");
}

TEST(RecommenderTest, SamplesPerSecondCountsWhenLarger) {
  Policy p = DefaultPolicy();
  p.target_samples_per_second = 50e3;
  p.scale_up_window = 0s;
  Recommender rec(p);
  Observation o;
  o.at = kT0;
  o.current_shards = 2;
  o.series = 1.5e6;
  o.samples_per_second = 310e3;
  o.shards = {{0}, {1}};
  Recommendation r = rec.Observe(o);
  EXPECT_EQ(r.desired, 7);
  EXPECT_EQ(r.reason, "310k samples/s over a target of 50k per shard");
}

TEST(RecommenderTest, SkippedTicksMemoryAndGrowingLagEachAskForMore) {
  Policy p = DefaultPolicy();
  p.scale_up_window = 0s;
  auto one = [&](std::function<void(ShardLoad*, int)> adjust) {
    Recommender rec(p);
    Recommendation r;
    for (int k = 0; k < 3; ++k) {
      Observation o;
      o.at = kT0 + std::chrono::seconds(10 * k);
      o.current_shards = 4;
      o.series = 3.5e6;
      for (int i = 0; i < 4; ++i) {
        ShardLoad s;
        s.index = i;
        if (i == 2) adjust(&s, k);
        o.shards.push_back(s);
      }
      r = rec.Observe(o);
    }
    return r;
  };
  Recommendation skipped = one([](ShardLoad* s, int) { s->skipped_ticks = 2; });
  EXPECT_EQ(skipped.desired, 5);
  EXPECT_NE(skipped.reason.find("shard 2 skipped 2 scrape ticks"), std::string::npos);
  Recommendation memory = one([](ShardLoad* s, int) {
    s->memory_bytes = 950e6;
    s->memory_limit_bytes = 1e9;
  });
  EXPECT_EQ(memory.desired, 5);  // 4 × 0.95/0.85 = 4.47
  EXPECT_NE(memory.reason.find("memory at 95% of its limit"), std::string::npos);
  Recommendation lag = one([](ShardLoad* s, int k) { s->remote_write_lag_seconds = 40 + 20 * k; });
  EXPECT_EQ(lag.desired, 5);
  EXPECT_NE(lag.reason.find("remote-write lag growing: 80s"), std::string::npos);
  Recommendation steady_lag = one([](ShardLoad* s, int) { s->remote_write_lag_seconds = 80; });
  EXPECT_EQ(steady_lag.desired, 4);
}

TEST(RecommenderTest, TooLargeTargetIsReported) {
  Recommender rec(DefaultPolicy());
  Observation o;
  o.at = kT0;
  o.current_shards = 2;
  o.series = 1.5e6;
  o.shards = {{0}, {1}};
  o.shards[1].largest_target_series = 1.2e6;
  Recommendation r = rec.Observe(o);
  EXPECT_EQ(r.too_large,
            "a target of shard 1 has 1.2M series, more than the target of 1M per shard; more "
            "shards cannot split it");
}

TEST(RecommenderTest, OutOfOrderAndEmptyObservationsHold) {
  Recommender rec(DefaultPolicy());
  Observation o;
  o.current_shards = 3;
  o.at = kT0;
  EXPECT_EQ(rec.Observe(o).desired, 3);  // no reports
  o.series = 9e6;
  o.shards = {{0}};
  o.at = kT0 + 100s;
  rec.Observe(o);
  o.at = kT0 + 50s;
  EXPECT_EQ(rec.Observe(o).held, "observation older than the previous one");
}

TEST(RecommenderTest, Counted) {
  EXPECT_EQ(Counted(1, "target"), "1 target");
  EXPECT_EQ(Counted(0, "target"), "0 targets");
  EXPECT_EQ(Counted(3, "active shard"), "3 active shards");
}

TEST(RecommenderTest, HumanCount) {
  EXPECT_EQ(HumanCount(4.1e6), "4.1M");
  EXPECT_EQ(HumanCount(1e6), "1M");
  EXPECT_EQ(HumanCount(12345), "12.3k");
  EXPECT_EQ(HumanCount(999.9), "1k");
  EXPECT_EQ(HumanCount(950e3), "950k");
  EXPECT_EQ(HumanCount(12), "12");
  EXPECT_EQ(HumanCount(0), "0");
  EXPECT_EQ(HumanCount(0.5), "0.5");
}

}  // namespace
}  // namespace shardwise::autoscale
