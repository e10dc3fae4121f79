#include "operator/pool/plan_builder.h"

#include <gtest/gtest.h>

#include "common/base64.h"

namespace shardwise::pool {
namespace {

using nlohmann::json;

opdiscovery::Target MakeTarget(uint64_t id, std::shared_ptr<const opdiscovery::ScrapeConfig> c) {
  opdiscovery::Target t;
  t.id = id;
  t.address = "10.0.0." + std::to_string(id) + ":8080";
  t.scheme = "http";
  t.metrics_path = "/metrics";
  t.interval_ms = 15000;
  t.timeout_ms = 5000;
  t.labels = Labels{{"job", "web"}, {"instance", t.address}};
  t.config = std::move(c);
  return t;
}

TEST(PlanBuilderTest, PlansFollowAssignmentAndMarkHandoffs) {
  auto cfg = std::make_shared<opdiscovery::ScrapeConfig>();
  cfg->job_name = "serviceMonitor/default/web/0";
  cfg->monitor_namespace = "default";
  cfg->bearer_token_secret = opdiscovery::KeyRef{"tok", "token", false};
  std::vector<opdiscovery::Target> targets = {MakeTarget(1, cfg), MakeTarget(2, cfg),
                                              MakeTarget(3, cfg)};
  assign::Assignment a;
  a.shards = {assign::ShardState::kActive, assign::ShardState::kActive};
  a.targets = {{1, 1, 0, 0}, {2, 1, 1, 1}, {3, 1, 1, 1}};
  a.handoffs = {{3, 0, 1, {}}};  // target 3 moves 0 -> 1
  a.load = {1, 2};
  a.owned = {1, 2};
  a.handing_off = {1, 0};
  PoolSpec spec;
  spec.ns = "mon";
  spec.name = "main";
  spec.replicas_per_shard = 2;
  opdiscovery::ClusterView view;
  json secret = {{"kind", "Secret"},
                 {"metadata", {{"name", "tok"}, {"namespace", "default"}}},
                 {"data", {{"token", Base64Encode("s3cret")}}}};
  view.AddSecret(secret);
  std::vector<std::string> errors;
  auto plans = BuildPlans(spec, targets, a, view, &errors);
  EXPECT_TRUE(errors.empty());
  ASSERT_EQ(plans.size(), 2u);
  ASSERT_EQ(plans[0].size(), 2u);
  EXPECT_EQ(plans[0][1].replica, 1);
  // Shard 0 scrapes its own target 1 plus target 3 it is handing off.
  ASSERT_EQ(plans[0][0].targets.size(), 2u);
  EXPECT_EQ(plans[0][0].targets[1].id, 3u);
  EXPECT_EQ(plans[0][0].targets[1].handoff, plan::Handoff::kOutgoing);
  ASSERT_EQ(plans[1][0].targets.size(), 2u);
  EXPECT_EQ(plans[1][0].targets[1].handoff, plan::Handoff::kIncoming);
  EXPECT_EQ(plans[1][0].targets[0].handoff, plan::Handoff::kNone);
  ASSERT_TRUE(plans[1][0].targets[0].auth);
  EXPECT_EQ(plans[1][0].targets[0].auth->bearer_token, "s3cret");
  EXPECT_EQ(plans[1][0].targets[0].interval.count(), 15000);
}

// The pool's remote write reaches running scrapers through their plans, in the shape of the
// scraper's config file; a pool without endpoints leaves the scrapers' own in place.
TEST(PlanBuilderTest, PlansCarryThePoolsRemoteWrite) {
  assign::Assignment a;
  a.shards = {assign::ShardState::kActive};
  a.load = {0};
  a.owned = {0};
  a.handing_off = {0};
  PoolSpec spec;
  spec.ns = "mon";
  spec.name = "main";
  spec.external_labels = Labels{{"cluster", "c1"}};
  opdiscovery::ClusterView view;
  auto plans = BuildPlans(spec, {}, a, view, nullptr);
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_FALSE(plans[0][0].remote_write.has_value());
  spec.remote_write = json::array(
      {{{"url", "http://vm:8428/api/v1/write"}, {"queueConfig", {{"batchSendDeadline", "1s"}}}}});
  plans = BuildPlans(spec, {}, a, view, nullptr);
  ASSERT_TRUE(plans[0][0].remote_write.has_value());
  EXPECT_EQ(*plans[0][0].remote_write, json::parse(R"([{"url": "http://vm:8428/api/v1/write",
                             "queue_config": {"batch_send_deadline": "1s"}}])"));
  EXPECT_EQ(plans[0][0].external_labels, (Labels{{"cluster", "c1"}}));
}

// Each shard's plans (every replica) list the targets released from it: after a handoff the
// old owner's plan names the target, so a scraper that skipped the outgoing generation
// still stops it silently.
TEST(PlanBuilderTest, PlansListTheTargetsReleasedFromTheirShard) {
  auto cfg = std::make_shared<opdiscovery::ScrapeConfig>();
  cfg->job_name = "j";
  assign::Assignment before;
  before.shards = {assign::ShardState::kActive, assign::ShardState::kActive};
  before.targets = {{1, 1, 0, 0}, {2, 1, 0, 0}};
  before.load = {2, 0};
  before.owned = {2, 0};
  before.handing_off = {0, 0};
  assign::Assignment after = before;
  after.targets[1].owner = 1;
  after.load = {1, 1};
  after.owned = {1, 1};
  ReleasedTargets released(std::chrono::minutes(2));
  released.Update(&before, after, assign::Time{std::chrono::seconds(100)});
  PoolSpec spec;
  spec.replicas_per_shard = 2;
  auto plans = BuildPlans(spec, {MakeTarget(1, cfg), MakeTarget(2, cfg)}, after,
                          opdiscovery::ClusterView{}, nullptr, &released);
  ASSERT_EQ(plans.size(), 2u);
  for (const auto& replica : plans[0]) {
    EXPECT_EQ(replica.released, std::vector<uint64_t>{2});
    ASSERT_EQ(replica.targets.size(), 1u);
    EXPECT_EQ(replica.targets[0].id, 1u);
  }
  EXPECT_TRUE(plans[1][0].released.empty());
  ASSERT_EQ(plans[1][0].targets.size(), 1u);
  EXPECT_EQ(plans[1][0].targets[0].id, 2u);
}

TEST(PlanBuilderTest, MissingSecretDropsTargetWithError) {
  auto cfg = std::make_shared<opdiscovery::ScrapeConfig>();
  cfg->job_name = "j";
  cfg->monitor_namespace = "default";
  cfg->bearer_token_secret = opdiscovery::KeyRef{"absent", "token", false};
  assign::Assignment a;
  a.shards = {assign::ShardState::kActive};
  a.targets = {{1, 1, 0, 0}};
  a.load = {1};
  a.owned = {1};
  a.handing_off = {0};
  std::vector<std::string> errors;
  auto plans = BuildPlans(PoolSpec{}, {MakeTarget(1, cfg)}, a, opdiscovery::ClusterView{}, &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("absent"), std::string::npos);
  EXPECT_TRUE(plans[0][0].targets.empty());
}

}  // namespace
}  // namespace shardwise::pool
