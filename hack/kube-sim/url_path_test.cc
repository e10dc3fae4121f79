#include "hack/kube-sim/url_path.h"

#include <gtest/gtest.h>

namespace shardwise::kubesim {
namespace {

using Segments = std::vector<std::string>;

TEST(SplitPathTest, SegmentsInOrder) {
  EXPECT_EQ(SplitPath("/apis/shardwise.io/v1alpha1/scrapepools"),
            (Segments{"apis", "shardwise.io", "v1alpha1", "scrapepools"}));
  EXPECT_EQ(SplitPath("api/v1"), (Segments{"api", "v1"}));
}

TEST(SplitPathTest, EmptySegmentsAreDropped) {
  EXPECT_EQ(SplitPath("//api///v1/"), (Segments{"api", "v1"}));
  EXPECT_TRUE(SplitPath("/").empty());
  EXPECT_TRUE(SplitPath("").empty());
}

TEST(SplitPathTest, DecodedCharactersStayInTheirSegment) {
  // The server decoded %3A and %20 already; only '/' separates.
  EXPECT_EQ(SplitPath("/api/v1/namespaces/a b/pods/x:y"),
            (Segments{"api", "v1", "namespaces", "a b", "pods", "x:y"}));
}

}  // namespace
}  // namespace shardwise::kubesim
