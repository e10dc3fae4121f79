#include "common/labels.h"

#include <gtest/gtest.h>

namespace shardwise {
namespace {

TEST(LabelsTest, SortedAndLastDuplicateWins) {
  Labels l = Labels::FromUnsorted({{"b", "2"}, {"a", "1"}, {"b", "3"}});
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].name, "a");
  EXPECT_EQ(l.Get("b"), "3");
  EXPECT_EQ(l.Get("missing"), "");
}

TEST(LabelsTest, HashIsStableAndSeparatesBoundaries) {
  Labels a{{"a", "bc"}};
  Labels b{{"ab", "c"}};
  EXPECT_NE(a.Hash(), b.Hash());
  EXPECT_EQ(a.Hash(), Labels({{"a", "bc"}}).Hash());
}

TEST(LabelsTest, ToStringEscapes) {
  Labels l{{"__name__", "up"}, {"job", "a\"b\\c\nd"}};
  EXPECT_EQ(l.ToString(), "up{job=\"a\\\"b\\\\c\\nd\"}");
}

TEST(LabelsBuilderTest, SetEmptyDeletes) {
  LabelsBuilder b(Labels{{"a", "1"}, {"b", "2"}});
  b.Set("a", "");
  b.Set("c", "3");
  EXPECT_EQ(b.Build(), (Labels{{"b", "2"}, {"c", "3"}}));
}

TEST(LabelNamesTest, Validity) {
  EXPECT_TRUE(IsValidLabelName("_a1"));
  EXPECT_FALSE(IsValidLabelName("1a"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_TRUE(IsValidMetricName("a:b"));
  EXPECT_FALSE(IsValidLabelName(""));
}

}  // namespace
}  // namespace shardwise
