#include "scraper/discovery/target_group.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace shardwise::sd {
namespace {

using ::testing::HasSubstr;

TEST(TargetGroupTest, ParsesJson) {
  auto groups = ParseTargetGroupsJson(
      R"([{"targets": ["a:1", "b:2"], "labels": {"env": "prod"}}, {"targets": []}])", "f.json");
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  ASSERT_EQ(groups->size(), 2u);
  const TargetGroup& g = (*groups)[0];
  ASSERT_EQ(g.targets.size(), 2u);
  EXPECT_EQ(g.targets[1].Get("__address__"), "b:2");
  EXPECT_EQ(g.labels, (Labels{{"env", "prod"}}));
  EXPECT_EQ(g.source, "f.json:0");
  EXPECT_EQ((*groups)[1].source, "f.json:1");
}

TEST(TargetGroupTest, ParsesYaml) {
  auto groups = ParseTargetGroupsYaml("- targets: ['a:1']\n  labels: {env: dev}\n", "f.yml");
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].targets[0].Get("__address__"), "a:1");
  EXPECT_EQ((*groups)[0].labels.Get("env"), "dev");
  EXPECT_TRUE(ParseTargetGroupsYaml("", "empty")->empty());
}

TEST(TargetGroupTest, RejectsMalformed) {
  EXPECT_FALSE(ParseTargetGroupsJson("{", "x").ok());
  EXPECT_FALSE(ParseTargetGroupsJson(R"({"targets": []})", "x").ok());
  EXPECT_FALSE(ParseTargetGroupsJson(R"([{"targets": [1]}])", "x").ok());
  auto bad_label = ParseTargetGroupsJson(R"([{"labels": {"a-b": "x"}}])", "x");
  ASSERT_FALSE(bad_label.ok());
  EXPECT_THAT(bad_label.status().message(), HasSubstr("[0].labels"));
  EXPECT_FALSE(ParseTargetGroupsJson(R"([{"labels": {"a": 1}}])", "x").ok());
  EXPECT_FALSE(ParseTargetGroupsYaml("- targets: [a]\n  extra: 1\n", "x").ok());
  EXPECT_FALSE(ParseTargetGroupsYaml("- targets: [a\n", "x").ok());
  EXPECT_FALSE(ParseTargetGroupsYaml("a: b\n", "x").ok());
}

}  // namespace
}  // namespace shardwise::sd
