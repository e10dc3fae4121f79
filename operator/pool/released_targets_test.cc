#include "operator/pool/released_targets.h"

#include <gtest/gtest.h>

namespace shardwise::pool {
namespace {

using namespace std::chrono_literals;
using assign::Assignment;
using assign::Handoff;
using assign::ShardState;
using Ids = std::vector<uint64_t>;

// An assignment over `shards` active shards: owner per target id, and handoffs (from, to).
Assignment Make(size_t shards, std::vector<std::pair<uint64_t, uint32_t>> owners,
                std::vector<Handoff> handoffs = {}) {
  Assignment a;
  a.shards.assign(shards, ShardState::kActive);
  std::sort(owners.begin(), owners.end());
  for (const auto& [id, owner] : owners) a.targets.push_back({id, 1, owner, owner});
  a.handoffs = std::move(handoffs);
  return a;
}

const assign::Time kT0{std::chrono::seconds(1'700'000'000)};

// Releases kept 2 min, as the controller keeps them.
class ReleasedTargetsTest : public ::testing::Test {
 protected:
  // One reconcile: the assignment went from `before` to `after` at `at`.
  void Change(const Assignment& before, const Assignment& after, assign::Time at = kT0) {
    r_.Update(&before, after, at);
  }

  ReleasedTargets r_{2min};
};

// Plans are long-polled, so a scraper can miss the generation that marked a target
// outgoing. Whatever it saw, the target that left the shard is in the shard's list.
TEST_F(ReleasedTargetsTest, ATargetHandedOffIsReleasedFromItsOldOwner) {
  Assignment owner0 = Make(2, {{7, 0}, {8, 1}});
  Assignment handing = Make(2, {{7, 1}, {8, 1}}, {{7, 0, 1, kT0}});
  Assignment done = Make(2, {{7, 1}, {8, 1}});
  r_.Update(nullptr, owner0, kT0);
  r_.Update(&owner0, handing, kT0 + 1s);
  EXPECT_EQ(r_.Of(0), Ids{}) << "shard 0 still scrapes it (outgoing)";
  EXPECT_EQ(r_.Of(1), Ids{});
  r_.Update(&handing, done, kT0 + 5s);
  EXPECT_EQ(r_.Of(0), Ids{7});
  EXPECT_EQ(r_.Of(1), Ids{});
  // Later plans keep the release: a scraper still at generation `owner0` stops it silently.
  r_.Update(&done, done, kT0 + 30s);
  EXPECT_EQ(r_.Of(0), Ids{7});
}

// A move without handoff (the old owner was judged lost, e.g. a pod not yet Ready whose
// scraper already ran its plan) is a release too.
TEST_F(ReleasedTargetsTest, AMoveWithoutHandoffIsReleased) {
  Change(Make(3, {{1, 0}, {2, 2}}), Make(3, {{1, 1}, {2, 2}}));
  EXPECT_EQ(r_.Of(0), Ids{1});
  EXPECT_EQ(r_.Of(1), Ids{});
  EXPECT_EQ(r_.Of(2), Ids{});
}

// A handoff restarted towards a third shard (A -> B, then C before B confirmed the
// cutover): B, which may have forwarded after the cutover, is released; A keeps scraping.
TEST_F(ReleasedTargetsTest, ARestartedHandoffReleasesTheAbandonedNewOwner) {
  Change(Make(3, {{5, 1}}, {{5, 0, 1, kT0}}), Make(3, {{5, 2}}, {{5, 0, 2, kT0 + 2s}}), kT0 + 2s);
  EXPECT_EQ(r_.Of(0), Ids{});
  EXPECT_EQ(r_.Of(1), Ids{5});
  EXPECT_EQ(r_.Of(2), Ids{});
}

// Only a target that left discovery ends with staleness markers: it is released from no
// shard, and earlier releases of it are forgotten.
TEST_F(ReleasedTargetsTest, ATargetThatLeftDiscoveryIsNeverReleased) {
  Assignment b = Make(2, {{1, 1}, {2, 0}});
  Change(Make(2, {{1, 0}, {2, 0}}), b);
  ASSERT_EQ(r_.Of(0), Ids{1});
  Change(b, Make(2, {{2, 0}}), kT0 + 1s);
  EXPECT_EQ(r_.Of(0), Ids{});
  EXPECT_EQ(r_.Of(1), Ids{}) << "target 1 left discovery: shard 1 writes markers";
  EXPECT_EQ(r_.size(), 0u);
}

TEST_F(ReleasedTargetsTest, ReleasesEndWhenTheTargetComesBackOrAfterKeep) {
  Assignment on1 = Make(2, {{1, 1}, {2, 1}});
  Change(Make(2, {{1, 0}, {2, 0}}), on1);
  ASSERT_EQ(r_.Of(0), (Ids{1, 2}));
  Assignment back = Make(2, {{1, 0}, {2, 1}});
  Change(on1, back, kT0 + 1s);
  EXPECT_EQ(r_.Of(0), Ids{2}) << "target 1 is back on shard 0";
  EXPECT_EQ(r_.Of(1), Ids{1});
  r_.Update(&back, back, kT0 + 2min - 1ms);
  EXPECT_EQ(r_.Of(0), Ids{2}) << "kept at least 2 min";
  r_.Update(&back, back, kT0 + 2min + 30s);
  EXPECT_EQ(r_.Of(0), Ids{}) << "released at T0, gone by 1.25 x 2 min";
  r_.Update(&back, back, kT0 + 1s + 2min + 30s);
  EXPECT_EQ(r_.size(), 0u);
}

// Expiry moves in steps of keep/4: releases a few reconciles apart leave the plans in one
// change rather than one new plan generation per reconcile.
TEST_F(ReleasedTargetsTest, ReleasesOfNearbyReconcilesExpireTogether) {
  Assignment a = Make(2, {{1, 0}, {2, 0}, {3, 0}});
  Assignment b = Make(2, {{1, 1}, {2, 0}, {3, 0}});
  Assignment c = Make(2, {{1, 1}, {2, 1}, {3, 0}});
  Assignment d = Make(2, {{1, 1}, {2, 1}, {3, 1}});
  // Three releases 1 s apart, at the start of a 30 s step.
  const assign::Time t{std::chrono::seconds(1'700'000'010)};
  r_.Update(&a, b, t);
  r_.Update(&b, c, t + 1s);
  r_.Update(&c, d, t + 2s);
  ASSERT_EQ(r_.Of(0), (Ids{1, 2, 3}));
  std::vector<size_t> sizes;
  for (auto at = t + 2s; at <= t + 3min; at += 1s) {
    r_.Update(&d, d, at);
    if (sizes.empty() || sizes.back() != r_.Of(0).size()) sizes.push_back(r_.Of(0).size());
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{3, 0})) << "all three went in one step";
}

// What a live scraper reports running but its shard no longer scrapes is released as well:
// a placement rebuilt after an operator restart may disagree with a lagging scraper.
TEST_F(ReleasedTargetsTest, TargetsAScraperStillRunsElsewhereAreReleased) {
  Assignment a = Make(2, {{1, 0}, {2, 1}});
  r_.Update(nullptr, a, kT0);
  // Shard 1 reports 1 (owned by 0), 2 (its own) and 9 (not discovered: left discovery).
  r_.NoteRunning(1, {1, 2, 9}, a, kT0);
  EXPECT_EQ(r_.Of(1), Ids{1});
  EXPECT_EQ(r_.Of(0), Ids{});
  // Released while reported, then expired like any other release.
  r_.Update(&a, a, kT0 + 2min);
  r_.NoteRunning(1, {1, 2}, a, kT0 + 2min);
  r_.Update(&a, a, kT0 + 3min);
  EXPECT_EQ(r_.Of(1), Ids{1});
  r_.Update(&a, a, kT0 + 5min);
  EXPECT_EQ(r_.Of(1), Ids{});
  r_.NoteRunning(7, {1}, a, kT0);  // no such shard
  EXPECT_EQ(r_.size(), 0u);
}

TEST_F(ReleasedTargetsTest, ShardsThatAreGoneKeepNothing) {
  Assignment two = Make(3, {{1, 1}, {2, 0}});
  Change(Make(3, {{1, 2}, {2, 0}}), two);
  ASSERT_EQ(r_.Of(2), Ids{1});
  Assignment removed = two;
  removed.shards.resize(2);
  Change(two, removed, kT0 + 1s);
  EXPECT_EQ(r_.Of(2), Ids{});
  EXPECT_EQ(r_.size(), 0u);
}

}  // namespace
}  // namespace shardwise::pool
