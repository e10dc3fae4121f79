// Property tests for Assign over randomized inputs with fixed seeds.
#include "operator/assign/assigner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "operator/assign/assign_testing.h"

namespace shardwise::assign {
namespace {

using testing::ActiveShards;
using testing::Inputs;
using testing::MakeTargets;
using testing::MaxOverMean;
using testing::MovedWeight;
using testing::TotalWeight;

constexpr int kSeeds = 30;
const Time kNow = Time{} + std::chrono::hours(1000);

Assignment Place(const std::vector<TargetInput>& targets, std::vector<ShardState> shards,
                 const Assignment* previous = nullptr) {
  AssignInput in;
  in.targets = targets;
  in.shards = std::move(shards);
  in.previous = previous;
  in.now = kNow;
  Result<Assignment> out = Assign(in);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? std::move(out).value() : Assignment{};
}

// A pool of `shards` shards with 200–800 skewed targets per shard.
struct Case {
  uint32_t shards;
  std::vector<TargetInput> targets;
};
Case RandomCase(uint64_t seed, uint32_t min_shards = 2, uint32_t max_shards = 40) {
  std::mt19937_64 rng(seed);
  Case c;
  c.shards = min_shards + static_cast<uint32_t>(rng() % (max_shards - min_shards + 1));
  const size_t per_shard = 200 + rng() % 601;
  c.targets = Inputs(MakeTargets(c.shards * per_shard, seed, /*alpha=*/1.3, /*cap=*/2000));
  return c;
}

void ExpectSameOwners(const Assignment& a, const Assignment& b) {
  ASSERT_EQ(a.targets.size(), b.targets.size());
  for (size_t i = 0; i < a.targets.size(); ++i) {
    ASSERT_EQ(a.targets[i].id, b.targets[i].id);
    ASSERT_EQ(a.targets[i].owner, b.targets[i].owner) << "target " << a.targets[i].id;
  }
}

TEST(AssignTest, DeterministicAndIndependentOfInputOrder) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE(seed);
    Case c = RandomCase(seed);
    const Assignment first = Place(c.targets, ActiveShards(c.shards));
    std::vector<TargetInput> shuffled = c.targets;
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937_64(seed * 7919));
    const Assignment second = Place(shuffled, ActiveShards(c.shards));
    ExpectSameOwners(first, second);
    EXPECT_EQ(first.load, second.load);

    // With a previous assignment and a lost shard as well.
    auto shards = ActiveShards(c.shards + 1);
    shards[seed % c.shards] = ShardState::kLost;
    const Assignment next_a = Place(c.targets, shards, &first);
    const Assignment next_b = Place(shuffled, shards, &second);
    ExpectSameOwners(next_a, next_b);
  }
}

TEST(AssignTest, FeedingTheOutputBackMovesNothing) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE(seed);
    Case c = RandomCase(seed);
    const Assignment first = Place(c.targets, ActiveShards(c.shards));
    const Assignment again = Place(c.targets, ActiveShards(c.shards), &first);
    ExpectSameOwners(first, again);
    EXPECT_EQ(again.stats.moved_targets, 0u);
    EXPECT_TRUE(again.handoffs.empty());
    // Also after a change: grow by one, then settle.
    const Assignment grown = Place(c.targets, ActiveShards(c.shards + 1), &first);
    const Assignment settled = Place(c.targets, ActiveShards(c.shards + 1), &grown);
    EXPECT_EQ(settled.stats.moved_targets, 0u);
  }
}

TEST(AssignTest, GrowthMovesAboutTheIdealShare) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE(seed);
    Case c = RandomCase(seed);
    const Assignment before = Place(c.targets, ActiveShards(c.shards));
    const Assignment after = Place(c.targets, ActiveShards(c.shards + 1), &before);
    const double ideal = TotalWeight(before) / (c.shards + 1);
    const double moved = MovedWeight(before, after);
    EXPECT_LE(moved, 1.1 * ideal) << "shards " << c.shards;
    // The new shard really takes its share (it is not left idle).
    EXPECT_GE(after.load[c.shards], 0.5 * ideal);
    EXPECT_LE(MaxOverMean(after), 1.10);
  }
}

TEST(AssignTest, ResizeAfterAHistoryOfChangesStillMovesAboutTheIdeal) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE(seed);
    Case c = RandomCase(seed, 4, 30);
    std::mt19937_64 rng(seed);
    // Start smaller, grow, let series drift ±20%, lose and recover a shard.
    Assignment current = Place(c.targets, ActiveShards(c.shards - 2));
    current = Place(c.targets, ActiveShards(c.shards - 1), &current);
    for (auto& t : c.targets) {
      t.measured_series *= 0.8 + 0.4 * static_cast<double>(rng() % 1000) / 1000.0;
    }
    auto shards = ActiveShards(c.shards);
    shards[rng() % c.shards] = ShardState::kLost;
    current = Place(c.targets, shards, &current);
    current = Place(c.targets, ActiveShards(c.shards), &current);

    const Assignment grown = Place(c.targets, ActiveShards(c.shards + 1), &current);
    const double ideal = TotalWeight(current) / (c.shards + 1);
    EXPECT_LE(MovedWeight(current, grown), 1.1 * ideal) << "shards " << c.shards;
    EXPECT_LE(MaxOverMean(grown), 1.10);

    const Assignment shrunk = Place(c.targets, ActiveShards(c.shards - 1), &current);
    EXPECT_LE(MovedWeight(current, shrunk), 1.1 * current.load[c.shards - 1]);
    EXPECT_LE(MaxOverMean(shrunk), 1.10);
  }
}

TEST(AssignTest, ShrinkMovesOnlyTheRemovedShardsLoad) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE(seed);
    Case c = RandomCase(seed, 3);
    const Assignment before = Place(c.targets, ActiveShards(c.shards));
    const double removed = before.load[c.shards - 1];
    const Assignment after = Place(c.targets, ActiveShards(c.shards - 1), &before);
    EXPECT_LE(MovedWeight(before, after), 1.1 * removed) << "shards " << c.shards;
    EXPECT_LE(MaxOverMean(after), 1.10);
  }
}

TEST(AssignTest, DrainingTheTopShardThenRemovingItMovesNothingMore) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE(seed);
    Case c = RandomCase(seed, 3);
    const Assignment before = Place(c.targets, ActiveShards(c.shards));
    const Assignment draining =
        Place(c.targets, ScaleTo(ActiveShards(c.shards), c.shards - 1), &before);
    EXPECT_EQ(draining.owned[c.shards - 1], 0u);
    EXPECT_LE(MovedWeight(before, draining), 1.1 * before.load[c.shards - 1]);
    const Assignment removed = Place(c.targets, ActiveShards(c.shards - 1), &draining);
    EXPECT_EQ(removed.stats.moved_targets, 0u);
  }
}

TEST(AssignTest, LoadStaysBoundedWithSkewedWeightsThroughChanges) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE(seed);
    Case c = RandomCase(seed, 4, 30);
    std::mt19937_64 rng(seed);
    auto shards = ActiveShards(c.shards);
    Assignment current = Place(c.targets, shards);
    EXPECT_LE(MaxOverMean(current), 1.10);
    for (int step = 0; step < 8; ++step) {
      switch (rng() % 4) {
        case 0:  // grow
          shards.push_back(ShardState::kActive);
          break;
        case 1:  // shrink through draining
          shards = ScaleTo(shards, static_cast<uint32_t>(shards.size() - 1));
          break;
        case 2:  // lose or recover a shard
          shards[rng() % shards.size()] = ShardState::kLost;
          shards[rng() % shards.size()] = ShardState::kActive;
          break;
        case 3:  // series counts drift by up to ±30%
          for (auto& t : c.targets) {
            t.measured_series *= 0.7 + 0.6 * static_cast<double>(rng() % 1000) / 1000.0;
          }
          break;
      }
      if (std::count(shards.begin(), shards.end(), ShardState::kActive) == 0) {
        shards[0] = ShardState::kActive;
      }
      current = Place(c.targets, shards, &current);
      EXPECT_LE(MaxOverMean(current), 1.10) << "step " << step;
      EXPECT_EQ(current.stats.over_capacity, 0u);
      // Drained shards leave the StatefulSet.
      const uint32_t tail = RemovableTail(current);
      if (tail > 0 && tail < shards.size()) {
        shards.resize(shards.size() - tail);
        current = Place(c.targets, shards, &current);
      }
    }
  }
}

TEST(AssignTest, LostShardIsSpreadOverSurvivorsAndComesBack) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE(seed);
    Case c = RandomCase(seed, 5, 30);
    const uint32_t lost = static_cast<uint32_t>(seed % c.shards);
    const Assignment before = Place(c.targets, ActiveShards(c.shards));
    auto shards = ActiveShards(c.shards);
    shards[lost] = ShardState::kLost;
    const Assignment during = Place(c.targets, shards, &before);

    std::vector<double> received(c.shards, 0);
    double lost_load = 0;
    for (const auto& t : before.targets) {
      if (t.owner != lost) continue;
      lost_load += t.weight;
      received[during.Find(t.id)->owner] += t.weight;
    }
    EXPECT_EQ(during.owned[lost], 0u);
    // Exactly the lost shard's targets move without a handoff (nobody is left to forward).
    EXPECT_EQ(during.stats.moved_without_handoff, before.owned[lost]);
    const double fair = lost_load / (c.shards - 1);
    int receivers = 0;
    for (uint32_t s = 0; s < c.shards; ++s) {
      if (received[s] > 0) ++receivers;
      EXPECT_LE(received[s], 2.5 * fair + 2000) << "shard " << s << " got a pile";
    }
    // Shards already above the mean take nothing; the rest share the load.
    EXPECT_GE(receivers, static_cast<int>(c.shards - 1) / 2);
    EXPECT_LE(MovedWeight(before, during), 1.1 * lost_load);

    const Assignment after = Place(c.targets, ActiveShards(c.shards), &during);
    EXPECT_EQ(after.stats.moved_without_handoff, 0u);  // it comes back by handoffs
    double back = 0;
    for (const auto& t : before.targets) {
      if (t.owner == lost && after.Find(t.id)->owner == lost) back += t.weight;
    }
    // It takes back its first-choice targets up to the mean load; what it held beyond its
    // first choices stays where it went.
    EXPECT_GE(back, 0.75 * lost_load);
    EXPECT_LE(MovedWeight(during, after), 1.1 * lost_load);
  }
}

TEST(AssignTest, ScaleDownDrainsHighestOrdinalsFirst) {
  using S = ShardState;
  EXPECT_EQ(ScaleTo({S::kActive, S::kLost, S::kActive, S::kActive}, 2),
            (std::vector<S>{S::kActive, S::kLost, S::kDraining, S::kDraining}));
  EXPECT_EQ(ScaleTo({S::kActive, S::kDraining, S::kDraining}, 2),
            (std::vector<S>{S::kActive, S::kActive, S::kDraining}));
  EXPECT_EQ(ScaleTo({S::kActive}, 3), (std::vector<S>{S::kActive, S::kActive, S::kActive}));

  Case c = RandomCase(11, 6, 6);
  const Assignment before = Place(c.targets, ActiveShards(6));
  const Assignment draining = Place(c.targets, ScaleTo(ActiveShards(6), 4), &before);
  EXPECT_EQ(draining.owned[4], 0u);
  EXPECT_EQ(draining.owned[5], 0u);
  EXPECT_GT(draining.handing_off[4], 0u);
  EXPECT_GT(draining.handing_off[5], 0u);
  // Still handing off: not yet removable.
  EXPECT_EQ(RemovableTail(draining), 0u);
  for (uint32_t s = 0; s < 4; ++s) EXPECT_GT(draining.owned[s], before.owned[s]);
}

TEST(AssignTest, ShardsPushedOverCapacityShedTheirLightestTargets) {
  Case c = RandomCase(5, 10, 10);
  const Assignment before = Place(c.targets, ActiveShards(10));
  // Shard 3's targets double their series.
  for (auto& t : c.targets) {
    if (before.Find(t.id)->owner == 3) t.measured_series *= 2;
  }
  const Assignment after = Place(c.targets, ActiveShards(10), &before);
  EXPECT_LE(MaxOverMean(after), 1.10);
  double shard3_total = 0;
  double moved = 0;
  double lightest_moved = 1e18;
  for (const auto& t : after.targets) {
    const uint32_t was = before.Find(t.id)->owner;
    if (was != 3) {
      EXPECT_EQ(t.owner, was) << "only shard 3's targets may move";
      continue;
    }
    shard3_total += t.weight;
    if (t.owner != 3) {
      moved += t.weight;
      lightest_moved = std::min(lightest_moved, t.weight);
    }
  }
  // Heaviest first, first fit: what leaves is the excess over capacity plus less than one
  // of the targets that left.
  ASSERT_GT(moved, 0);
  EXPECT_LT(moved, shard3_total - after.stats.capacity + lightest_moved);
}

TEST(AssignTest, ATargetTooHeavyForTheSlackDisplacesLighterOnes) {
  // 1,000 equal targets fill 4 shards to the mean; a newcomer weighing 30% of a shard
  // (three times the 10% slack) arrives.
  std::vector<TargetInput> targets;
  for (uint64_t i = 0; i < 1000; ++i) {
    targets.push_back({TargetId("j", std::to_string(i), "/metrics"), JobKey("j"), 100});
  }
  const Assignment before = Place(targets, ActiveShards(4));
  ASSERT_LE(MaxOverMean(before), 1.01);
  const uint64_t heavy = TargetId("big", "x", "/metrics");
  targets.push_back({heavy, JobKey("big"), 7500});
  const Assignment after = Place(targets, ActiveShards(4), &before);
  EXPECT_EQ(after.stats.over_capacity, 0u);
  EXPECT_LE(MaxOverMean(after), 1.10);
  // Only light targets made room, less than the newcomer's own weight in total.
  EXPECT_LT(MovedWeight(before, after), 7500);
  EXPECT_GT(after.stats.moved_targets, 0u);
  // And it settles.
  EXPECT_EQ(Place(targets, ActiveShards(4), &after).stats.moved_targets, 0u);
}

TEST(AssignTest, UnknownHomesAfterARestartMoveNothing) {
  Case c = RandomCase(9, 8, 8);
  Assignment before = Place(c.targets, ActiveShards(8));
  for (auto& t : before.targets) t.home = kNoShard;  // rebuilt from scraper reports
  const Assignment after = Place(c.targets, ActiveShards(8), &before);
  EXPECT_EQ(after.stats.moved_targets, 0u);
}

TEST(AssignTest, UnmeasuredTargetsAreWeighedByTheirJob) {
  std::vector<TargetInput> targets;
  for (uint64_t i = 0; i < 100; ++i) {
    targets.push_back({TargetId("big", std::to_string(i), "/metrics"), JobKey("big"), 1000});
    targets.push_back({TargetId("small", std::to_string(i), "/metrics"), JobKey("small"), 10});
  }
  targets.push_back({TargetId("big", "new", "/metrics"), JobKey("big"), -1});
  const Assignment a = Place(targets, ActiveShards(4));
  EXPECT_EQ(a.Find(TargetId("big", "new", "/metrics"))->weight, 1000);
}

TEST(AssignTest, RejectsBadInput) {
  AssignInput in;
  std::vector<TargetInput> dup = {{1, 0, 5}, {1, 0, 6}};
  in.targets = dup;
  in.shards = ActiveShards(2);
  EXPECT_EQ(Assign(in).status().code(), Status::Code::kInvalidArgument);
  in.targets = {};
  in.shards = {ShardState::kLost, ShardState::kDraining};
  EXPECT_EQ(Assign(in).status().code(), Status::Code::kFailedPrecondition);
  in.shards = ActiveShards(1);
  in.options.epsilon = -1;
  EXPECT_EQ(Assign(in).status().code(), Status::Code::kInvalidArgument);
  in.options.epsilon = 0.1;
  Assignment unsorted;
  unsorted.targets = {{5, 1, 0, 0}, {3, 1, 0, 0}};
  in.previous = &unsorted;
  EXPECT_EQ(Assign(in).status().code(), Status::Code::kInvalidArgument);
}

TEST(AssignTest, EmptyTargetsGiveEmptyShards) {
  const Assignment a = Place({}, ActiveShards(3));
  EXPECT_TRUE(a.targets.empty());
  EXPECT_EQ(a.load, (std::vector<double>{0, 0, 0}));
}

}  // namespace
}  // namespace shardwise::assign
