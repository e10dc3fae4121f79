#include "operator/assign/target_id.h"

#include <gtest/gtest.h>

namespace shardwise::assign {
namespace {

TEST(TargetIdTest, StableAndSensitiveToEveryField) {
  const uint64_t id = TargetId("node", "10.0.0.1:9100", "/metrics", {{"module", "http_2xx"}});
  EXPECT_EQ(id, TargetId("node", "10.0.0.1:9100", "/metrics", {{"module", "http_2xx"}}));
  EXPECT_NE(id, TargetId("nodes", "10.0.0.1:9100", "/metrics", {{"module", "http_2xx"}}));
  EXPECT_NE(id, TargetId("node", "10.0.0.2:9100", "/metrics", {{"module", "http_2xx"}}));
  EXPECT_NE(id, TargetId("node", "10.0.0.1:9100", "/probe", {{"module", "http_2xx"}}));
  EXPECT_NE(id, TargetId("node", "10.0.0.1:9100", "/metrics", {{"module", "icmp"}}));
  EXPECT_NE(id, TargetId("node", "10.0.0.1:9100", "/metrics"));
}

TEST(TargetIdTest, FieldBoundariesMatter) {
  EXPECT_NE(TargetId("ab", "c", ""), TargetId("a", "bc", ""));
  EXPECT_NE(TargetId("a", "", "b"), TargetId("a", "b", ""));
}

TEST(TargetIdTest, ParamOrderDoesNotMatter) {
  EXPECT_EQ(TargetId("j", "a", "/p", {{"x", "1"}, {"y", "2"}, {"x", "0"}}),
            TargetId("j", "a", "/p", {{"y", "2"}, {"x", "0"}, {"x", "1"}}));
}

TEST(TargetIdTest, PinnedValueKeepsPersistedIdsValid) {
  // Ids are persisted; changing the encoding would reshuffle every pool on upgrade.
  EXPECT_EQ(TargetId("node", "10.0.0.1:9100", "/metrics"),
            TargetId("node", "10.0.0.1:9100", "/metrics", {}));
  EXPECT_NE(JobKey("node"), TargetId("node", "", ""));
}

}  // namespace
}  // namespace shardwise::assign
