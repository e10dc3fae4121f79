#include "hack/kube-sim/patch.h"

#include <gtest/gtest.h>

namespace shardwise::kubesim {
namespace {

TEST(PatchTest, MergePatchDeletesWithNullAndReplacesLists) {
  json target = {{"a", 1}, {"b", {{"c", 2}}}, {"l", {1, 2}}};
  json out = ApplyMergePatch(target, {{"a", nullptr}, {"b", {{"d", 3}}}, {"l", {3}}});
  EXPECT_EQ(out, (json{{"b", {{"c", 2}, {"d", 3}}}, {"l", {3}}}));
}

TEST(PatchTest, JsonPatchFailureIsInvalid) {
  auto ok =
      ApplyJsonPatch({{"a", 1}}, json::array({{{"op", "replace"}, {"path", "/a"}, {"value", 2}}}));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.value()["a"], 2);
  auto bad =
      ApplyJsonPatch({{"a", 1}}, json::array({{{"op", "test"}, {"path", "/a"}, {"value", 5}}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), 422);
}

// Found by fuzz/patch_fuzz: a non-string "$patch" in a keyed list element threw from the
// JSON library instead of being treated as malformed input.
TEST(PatchTest, StrategicMergeToleratesNonStringDirectives) {
  json target = json::parse(R"({"spec":{"ports":[{"port":80,"targetPort":8080}]}})");
  json patch = json::parse(
      R"({"spec":{"ports":[{"port":80,"targetPort":8080,"$patch":443}],"$patch":"merge"}})");
  auto out = ApplyStrategicMergePatch(target, patch);  // must not throw
  if (out.ok()) {
    EXPECT_TRUE(out.value().is_object());
  }
}

TEST(PatchTest, StrategicMergeMergesListsByKeyWithDirectives) {
  json target = json::parse(R"({"spec":{"containers":[{"name":"c","image":"nginx:1.25",
      "env":[{"name":"A","value":"1"},{"name":"C","value":"3"}]},{"name":"side","image":"x"}]}})");
  json patch = json::parse(R"({"spec":{"$setElementOrder/containers":[{"name":"c"},{"name":"side"}],
      "containers":[{"$setElementOrder/env":[{"name":"B"},{"name":"C"}],"name":"c","image":"nginx:1.26",
      "env":[{"name":"B","value":"2"},{"$patch":"delete","name":"A"}]}]}})");
  auto out = ApplyStrategicMergePatch(target, patch);
  ASSERT_TRUE(out.ok());
  const json& containers = out.value()["spec"]["containers"];
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[0]["image"], "nginx:1.26");
  EXPECT_EQ(containers[1]["name"], "side") << "unmentioned elements stay";
  json env = containers[0]["env"];
  ASSERT_EQ(env.size(), 2u);
  EXPECT_EQ(env[0]["name"], "C");
  EXPECT_EQ(env[1]["name"], "B");
  EXPECT_EQ(out.value().dump().find("$"), std::string::npos) << "directives never reach storage";
}

TEST(PatchTest, StrategicPortsMergeByTheRightKey) {
  json svc =
      json::parse(R"({"spec":{"ports":[{"port":80,"name":"http"},{"port":443,"name":"https"}]}})");
  auto out = ApplyStrategicMergePatch(
      svc, json::parse(R"({"spec":{"ports":[{"port":80,"targetPort":8080}]}})"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out.value()["spec"]["ports"].size(), 2u);
  EXPECT_EQ(out.value()["spec"]["ports"][0]["targetPort"], 8080);
  EXPECT_EQ(MergeKeyFor("ports", json{{"containerPort", 80}}), "containerPort");
  EXPECT_EQ(MergeKeyFor("args", json("x")), "");
}

TEST(PatchTest, StrategicDeleteFromPrimitiveListAndRetainKeys) {
  json target = {{"finalizers", {"a", "b", "c"}}, {"s", {{"type", "X"}, {"x", 1}, {"y", 2}}}};
  auto out = ApplyStrategicMergePatch(
      target,
      json::parse(
          R"({"$deleteFromPrimitiveList/finalizers":["b"],"s":{"$retainKeys":["type","y"],"y":3}})"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out.value()["finalizers"], (json{"a", "c"}));
  EXPECT_EQ(out.value()["s"], (json{{"type", "X"}, {"y", 3}}));
}

}  // namespace
}  // namespace shardwise::kubesim
