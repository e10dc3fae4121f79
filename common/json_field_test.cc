#include "common/json_field.h"

#include <gtest/gtest.h>

namespace shardwise {
namespace {

TEST(JsonFieldTest, MissingOrMistypedReadsAsNull) {
  const auto pod = nlohmann::json::parse(
      R"({"metadata": {"name": "a"}, "status": {"conditions": [{"type": "Ready"}]}, "spec": 3})");
  EXPECT_EQ(JsonField(pod, "metadata")["name"], "a");
  EXPECT_TRUE(JsonField(pod, {"status", "conditions"}).is_array());
  EXPECT_TRUE(JsonField(pod, {"status", "phase"}).is_null());
  EXPECT_TRUE(JsonField(pod, {"spec", "containers"}).is_null());  // 3 is not an object
  EXPECT_TRUE(JsonField(pod, {"nope", "deeper", "still"}).is_null());
  EXPECT_TRUE(JsonField(nlohmann::json::array(), "x").is_null());
  EXPECT_FALSE(pod.contains("nope"));  // nothing inserted
}

}  // namespace
}  // namespace shardwise
