// PlanShardDirectory: shards from published plans, replicas' URLs from the scraper pods
// (Ready first, pods without an IP or being deleted left out), targets that may rewrite
// their labels counted as holding anything.
#include "operator/custommetrics/plan_directory.h"

#include <gtest/gtest.h>

#include "operator/endpoint/naming.h"

namespace shardwise::custommetrics {
namespace {

using nlohmann::json;

json Pod(const std::string& name, const std::string& ip, bool ready, bool deleting = false) {
  json pod = {{"metadata", {{"namespace", "mon"}, {"name", name}}},
              {"status",
               {{"podIP", ip},
                {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}};
  if (deleting) pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  return pod;
}

plan::Target T(uint64_t id, const std::string& pod, bool honor = false) {
  plan::Target t;
  t.id = id;
  t.labels = Labels{{"job", "web"}, {"pod", pod}};
  t.honor_labels = honor;
  return t;
}

TEST(PlanShardDirectory, ShardsReplicasAndTargets) {
  endpoint::PlanStore plans;
  kube::Store pods;
  plan::ScrapePlan p0;
  p0.targets = {T(1, "web-1"), T(2, "web-2", /*honor=*/true)};
  plans.Publish({"mon", "main", 0, 0}, p0);
  plans.Publish({"mon", "main", 0, 1}, p0);
  plan::ScrapePlan p1;
  p1.targets = {T(3, "web-3")};
  plans.Publish({"mon", "main", 1, 0}, p1);
  // Shard 0: replica 0 not Ready, replica 1 Ready; shard 1's pod is being deleted.
  pods.Upsert(std::make_shared<json>(Pod(endpoint::PodName("main", 0, 0), "127.1.0.1", false)));
  pods.Upsert(std::make_shared<json>(Pod(endpoint::PodName("main", 0, 1), "127.1.0.2", true)));
  pods.Upsert(
      std::make_shared<json>(Pod(endpoint::PodName("main", 1, 0), "127.1.0.3", true, true)));

  PlanShardDirectory dir(&plans, &pods, 9091);
  auto shards = dir.Shards();
  ASSERT_EQ(shards.size(), 2u);
  EXPECT_EQ(shards[0].name, "mon/main/0");
  EXPECT_EQ(shards[0].urls,
            (std::vector<std::string>{"http://127.1.0.2:9091", "http://127.1.0.1:9091"}));
  EXPECT_EQ(shards[1].name, "mon/main/1");
  EXPECT_TRUE(shards[1].urls.empty()) << "its only pod is being deleted";

  promql::Matcher web3{promql::MatchType::kEqual, "pod", "web-3", nullptr};
  promql::Matcher web1{promql::MatchType::kEqual, "pod", "web-1", nullptr};
  promql::Matcher web9{promql::MatchType::kEqual, "pod", "web-9", nullptr};
  EXPECT_TRUE(ShardMayHold(shards[1], {web3}));
  EXPECT_FALSE(ShardMayHold(shards[1], {web1}));
  EXPECT_TRUE(ShardMayHold(shards[0], {web1}));
  // web-2 honors the labels its metrics bring: shard 0 may hold any pod's series.
  EXPECT_TRUE(ShardMayHold(shards[0], {web9}));
  EXPECT_FALSE(ShardMayHold(shards[1], {web9}));
}

}  // namespace
}  // namespace shardwise::custommetrics
