// Placement read back from scraper reports: a restarted operator keeps every target where it
// is and continues handoffs in flight.
#include "operator/pool/placement_rebuild.h"

#include <gtest/gtest.h>

#include "operator/assign/assign_testing.h"
#include "operator/assign/assigner.h"

namespace shardwise::pool {
namespace {

using assign::ShardState;
using std::chrono::seconds;

const assign::Time kStart = assign::Time{} + std::chrono::hours(1000);

class PlacementRebuildTest : public ::testing::Test {
 protected:
  PlacementRebuildTest()
      : targets_(assign::testing::Inputs(assign::testing::MakeTargets(500, 7, 1.3, 500))) {}

  assign::Assignment Run(std::vector<ShardState> shards, const assign::Assignment* previous,
                         assign::Time now, std::vector<assign::ScrapeConfirmation> c = {}) {
    assign::AssignInput in;
    in.targets = targets_;
    in.shards = std::move(shards);
    in.previous = previous;
    in.now = now;
    in.confirmations = c;
    auto out = assign::Assign(in);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return std::move(out).value();
  }

  // What each shard's scraper would report running `a`.
  std::vector<plan::LoadReport> ReportsOf(const assign::Assignment& a, uint64_t generation) {
    std::vector<plan::LoadReport> reports(a.shards.size());
    for (uint32_t s = 0; s < a.shards.size(); ++s) {
      reports[s].plan_generation = generation;
      for (uint64_t id : a.ScrapeSet(s)) {
        plan::TargetLoad t;
        t.id = id;
        t.series = a.Find(id)->weight;
        if (const assign::Handoff* h = a.FindHandoff(id)) {
          t.handoff = h->from == s ? plan::Handoff::kOutgoing : plan::Handoff::kIncoming;
          if (h->cutover != assign::Time{}) {
            t.cutover_unix_ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(h->cutover.time_since_epoch())
                    .count();
          }
        }
        reports[s].per_target.push_back(t);
      }
    }
    return reports;
  }

  std::vector<ShardReport> Views(const std::vector<plan::LoadReport>& reports) {
    std::vector<ShardReport> out;
    for (uint32_t s = 0; s < reports.size(); ++s) out.push_back({s, &reports[s]});
    return out;
  }

  std::vector<uint64_t> Ids() const {
    std::vector<uint64_t> ids;
    for (const auto& t : targets_) ids.push_back(t.id);
    return ids;
  }

  std::vector<assign::TargetInput> targets_;
};

TEST_F(PlacementRebuildTest, ARestartMovesNoTarget) {
  const auto shards = assign::testing::ActiveShards(4);
  const assign::Assignment before = Run(shards, nullptr, kStart);
  const auto reports = ReportsOf(before, 1);
  const assign::Assignment rebuilt = RebuildAssignment(Views(reports), shards, Ids(), kStart);
  ASSERT_EQ(rebuilt.targets.size(), before.targets.size());
  const assign::Assignment after = Run(shards, &rebuilt, kStart + seconds(30));
  EXPECT_EQ(after.stats.moved_targets, 0u);
  EXPECT_TRUE(after.handoffs.empty());
  for (const auto& t : before.targets) EXPECT_EQ(after.Find(t.id)->owner, t.owner);
}

TEST_F(PlacementRebuildTest, HandoffsInFlightContinueWithTheirCutover) {
  const auto before = Run(assign::testing::ActiveShards(5), nullptr, kStart);
  const auto draining_states = assign::ScaleTo(assign::testing::ActiveShards(5), 4);
  assign::Assignment draining = Run(draining_states, &before, kStart + seconds(10));
  ASSERT_FALSE(draining.handoffs.empty());
  // Half of them already have a cutover.
  std::vector<assign::ScrapeConfirmation> confirmations;
  for (size_t i = 0; i < draining.handoffs.size(); i += 2) {
    const auto& h = draining.handoffs[i];
    confirmations.push_back({h.target, h.to, kStart + seconds(12)});
  }
  draining = Run(draining_states, &draining, kStart + seconds(15), confirmations);

  // The operator restarts: only the reports remain.
  const auto reports = ReportsOf(draining, 2);
  const assign::Assignment rebuilt =
      RebuildAssignment(Views(reports), draining_states, Ids(), kStart + seconds(20));
  ASSERT_EQ(rebuilt.handoffs.size(), draining.handoffs.size());
  for (const auto& h : draining.handoffs) {
    const assign::Handoff* r = rebuilt.FindHandoff(h.target);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->from, h.from);
    EXPECT_EQ(r->to, h.to);
    EXPECT_EQ(r->cutover, h.cutover);
  }
  const assign::Assignment after = Run(draining_states, &rebuilt, kStart + seconds(21));
  EXPECT_EQ(after.stats.moved_targets, 0u);
  EXPECT_EQ(after.handoffs.size(), draining.handoffs.size());
  for (const auto& t : draining.targets) EXPECT_EQ(after.Find(t.id)->owner, t.owner);
}

TEST_F(PlacementRebuildTest, NewerPlanWinsAndUnknownTargetsAndShardsAreIgnored) {
  std::vector<plan::LoadReport> reports(3);
  reports[0].plan_generation = 5;
  reports[0].per_target = {{.id = targets_[0].id, .series = 3}};
  reports[1].plan_generation = 9;  // newer: its claim on the same target wins
  reports[1].per_target = {{.id = targets_[0].id, .series = 3}, {.id = 12345, .series = 1}};
  reports[2].plan_generation = 9;
  reports[2].per_target = {{.id = targets_[1].id, .series = 1e6}};
  std::vector<ShardReport> views = {{0, &reports[0]}, {1, &reports[1]}, {7, &reports[2]}};
  const assign::Assignment rebuilt =
      RebuildAssignment(views, assign::testing::ActiveShards(2), Ids(), kStart);
  ASSERT_EQ(rebuilt.targets.size(), 1u);
  EXPECT_EQ(rebuilt.targets[0].owner, 1u);
  EXPECT_EQ(rebuilt.targets[0].home, assign::kNoShard);
  EXPECT_EQ(rebuilt.owned, (std::vector<uint64_t>{0, 1}));
}

}  // namespace
}  // namespace shardwise::pool
