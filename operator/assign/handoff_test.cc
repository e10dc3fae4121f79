// Make-before-break handoffs: who keeps scraping a moving target, and until when.
#include <gtest/gtest.h>

#include "operator/assign/assign_testing.h"
#include "operator/assign/assigner.h"

namespace shardwise::assign {
namespace {

using std::chrono::seconds;
using testing::ActiveShards;
using testing::Inputs;
using testing::MakeTargets;

const Time kStart = Time{} + std::chrono::hours(1000);

class HandoffTest : public ::testing::Test {
 protected:
  HandoffTest() : targets_(Inputs(MakeTargets(2000, 42, 1.3, 2000))) {}

  Assignment Run(std::vector<ShardState> shards, const Assignment* previous, Time now,
                 std::vector<ScrapeConfirmation> confirmations = {}) {
    AssignInput in;
    in.targets = targets_;
    in.shards = std::move(shards);
    in.previous = previous;
    in.now = now;
    in.confirmations = confirmations;
    in.options.handoff_timeout = seconds(120);
    Result<Assignment> out = Assign(in);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return std::move(out).value();
  }

  // Every target of shard 4 moves when shard 4 starts draining.
  void StartDrain() {
    before_ = Run(ActiveShards(5), nullptr, kStart);
    draining_ = Run(ScaleTo(ActiveShards(5), 4), &before_, kStart + seconds(10));
  }

  std::vector<ScrapeConfirmation> ConfirmAll(const Assignment& a, Time at) {
    std::vector<ScrapeConfirmation> all;
    for (const auto& h : a.handoffs) all.push_back({h.target, h.to, at});
    return all;
  }

  std::vector<TargetInput> targets_;
  Assignment before_;
  Assignment draining_;
};

TEST_F(HandoffTest, MovingTargetIsHandedOffByItsOldOwner) {
  StartDrain();
  ASSERT_EQ(draining_.owned[4], 0u);
  ASSERT_EQ(draining_.handoffs.size(), before_.owned[4]);
  EXPECT_EQ(draining_.stats.handoffs_started, before_.owned[4]);
  for (const auto& h : draining_.handoffs) {
    EXPECT_EQ(h.from, 4u);
    EXPECT_EQ(h.to, draining_.Find(h.target)->owner);
    EXPECT_EQ(h.since, kStart + seconds(10));
  }
  // The old owner still scrapes what it hands off; the new owner scrapes it too.
  const auto old_set = draining_.ScrapeSet(4);
  EXPECT_EQ(old_set.size(), before_.owned[4]);
  const Handoff& h = draining_.handoffs.front();
  const auto new_set = draining_.ScrapeSet(h.to);
  EXPECT_TRUE(std::binary_search(new_set.begin(), new_set.end(), h.target));
  EXPECT_FALSE(draining_.Drained(4));
  const auto sets = draining_.ScrapeSets();
  ASSERT_EQ(sets.size(), 5u);
  for (uint32_t s = 0; s < 5; ++s) EXPECT_EQ(sets[s], draining_.ScrapeSet(s));
}

TEST_F(HandoffTest, NewOwnerConfirmationSetsACutoverAndAScrapeAfterItEndsTheHandoff) {
  StartDrain();
  for (const auto& h : draining_.handoffs) EXPECT_EQ(h.cutover, Time{});
  const Handoff first = draining_.handoffs.front();
  std::vector<ScrapeConfirmation> confirmations = {
      {first.target, first.to, first.since + seconds(15)},
      // Too early, and from the wrong shard: neither counts.
      {draining_.handoffs[1].target, draining_.handoffs[1].to, first.since - seconds(1)},
      {draining_.handoffs[2].target, 4, first.since + seconds(15)},
  };
  // The first confirmed scrape picks the cutover; both shards still scrape the target.
  const Assignment next =
      Run(ScaleTo(ActiveShards(5), 4), &draining_, kStart + seconds(30), confirmations);
  const Handoff* cut = next.FindHandoff(first.target);
  ASSERT_NE(cut, nullptr);
  EXPECT_EQ(cut->cutover, kStart + seconds(30) + seconds(3));
  EXPECT_EQ(cut->since, first.since);
  EXPECT_EQ(next.FindHandoff(draining_.handoffs[1].target)->cutover, Time{});
  EXPECT_EQ(next.FindHandoff(draining_.handoffs[2].target)->cutover, Time{});
  EXPECT_EQ(next.stats.handoffs_completed, 0u);
  EXPECT_EQ(next.stats.moved_targets, 0u);

  // A scrape before the cutover is not enough; one at or after it (forwarded by the new
  // owner) completes the handoff.
  const Assignment early = Run(ScaleTo(ActiveShards(5), 4), &next, kStart + seconds(32),
                               {{first.target, first.to, kStart + seconds(32)}});
  EXPECT_EQ(early.FindHandoff(first.target)->cutover, cut->cutover);
  const Assignment after = Run(ScaleTo(ActiveShards(5), 4), &early, kStart + seconds(34),
                               {{first.target, first.to, kStart + seconds(33)}});
  EXPECT_EQ(after.FindHandoff(first.target), nullptr);
  EXPECT_EQ(after.stats.handoffs_completed, 1u);

  // Everything confirmed twice: first the cutovers, then the handoffs end.
  const Assignment cutovers = Run(ScaleTo(ActiveShards(5), 4), &after, kStart + seconds(40),
                                  ConfirmAll(after, kStart + seconds(40)));
  EXPECT_EQ(cutovers.handoffs.size(), after.handoffs.size());
  const Assignment done = Run(ScaleTo(ActiveShards(5), 4), &cutovers, kStart + seconds(50),
                              ConfirmAll(cutovers, kStart + seconds(45)));
  EXPECT_TRUE(done.handoffs.empty());
  EXPECT_TRUE(done.Drained(4));
  EXPECT_EQ(RemovableTail(done), 1u);
}

TEST_F(HandoffTest, HandoffEndsAtTheTimeout) {
  StartDrain();
  const Assignment before_timeout =
      Run(ScaleTo(ActiveShards(5), 4), &draining_, kStart + seconds(129));
  EXPECT_EQ(before_timeout.handoffs.size(), draining_.handoffs.size());
  const Assignment after_timeout =
      Run(ScaleTo(ActiveShards(5), 4), &before_timeout, kStart + seconds(130));
  EXPECT_TRUE(after_timeout.handoffs.empty());
  EXPECT_EQ(after_timeout.stats.handoffs_timed_out, draining_.handoffs.size());
}

TEST_F(HandoffTest, NoHandoffFromALostShard) {
  before_ = Run(ActiveShards(5), nullptr, kStart);
  auto shards = ActiveShards(5);
  shards[2] = ShardState::kLost;
  const Assignment lost = Run(shards, &before_, kStart + seconds(10));
  EXPECT_GT(lost.stats.moved_targets, 0u);
  EXPECT_TRUE(lost.handoffs.empty());
}

TEST_F(HandoffTest, PendingHandoffIsAbandonedWhenItsSourceIsLost) {
  StartDrain();
  auto shards = ScaleTo(ActiveShards(5), 4);
  shards[4] = ShardState::kLost;
  const Assignment next = Run(shards, &draining_, kStart + seconds(20));
  EXPECT_TRUE(next.handoffs.empty());
  EXPECT_EQ(next.stats.handoffs_abandoned, draining_.handoffs.size());
}

TEST_F(HandoffTest, MovingAgainKeepsTheShardThatReallyScrapes) {
  StartDrain();
  // Scale back up before anything is confirmed: targets return to shard 4, which never
  // stopped scraping them, so no handoff is needed.
  const Assignment back = Run(ActiveShards(5), &draining_, kStart + seconds(20));
  size_t returned = 0;
  for (const auto& h : draining_.handoffs) {
    if (back.Find(h.target)->owner == 4) {
      ++returned;
      EXPECT_EQ(back.FindHandoff(h.target), nullptr);
    } else {
      // Still moving away from 4: the original handoff stands.
      const Handoff* still = back.FindHandoff(h.target);
      ASSERT_NE(still, nullptr);
      EXPECT_EQ(still->from, 4u);
      EXPECT_EQ(still->since, h.since);
    }
  }
  EXPECT_GT(returned, draining_.handoffs.size() * 9 / 10);
}

TEST_F(HandoffTest, ChainedMoveHandsOffFromTheOriginalSource) {
  StartDrain();
  // Shard 1 is lost while targets are in flight from 4: those headed to 1 move on, and the
  // handoff is still from 4 (which is scraping), not from 1 (which never confirmed).
  auto shards = ScaleTo(ActiveShards(5), 4);
  shards[1] = ShardState::kLost;
  const Assignment next = Run(shards, &draining_, kStart + seconds(20));
  size_t rerouted = 0;
  for (const auto& h : draining_.handoffs) {
    if (h.to != 1) continue;
    ++rerouted;
    const Handoff* now = next.FindHandoff(h.target);
    ASSERT_NE(now, nullptr);
    EXPECT_EQ(now->from, 4u);
    EXPECT_EQ(now->to, next.Find(h.target)->owner);
    EXPECT_EQ(now->since, kStart + seconds(20));
  }
  EXPECT_GT(rerouted, 0u);
}

}  // namespace
}  // namespace shardwise::assign
