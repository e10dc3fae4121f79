#include "scraper/remotewrite/series_table.h"

#include <gtest/gtest.h>

namespace shardwise::remotewrite {
namespace {

TEST(SeriesTableTest, DefineFindEraseAcrossPagesAndSparseRefs) {
  SeriesTable t;
  bool known = true;
  for (uint64_t ref : {uint64_t{1}, uint64_t{255}, uint64_t{256}, uint64_t{1} << 40}) {
    t.Define(ref, &known) = MakeLabelBlock("labels-" + std::to_string(ref));
    EXPECT_FALSE(known);
  }
  t.Define(7, &known);  // dropped: known, no labels
  EXPECT_EQ(t.size(), 5u);
  ASSERT_NE(t.Find(256), nullptr);
  EXPECT_EQ(LabelBlockBytes(t.Find(256)->get()), "labels-256");
  EXPECT_EQ(LabelBlockBytes(t.Find(uint64_t{1} << 40)->get()),
            "labels-" + std::to_string(uint64_t{1} << 40));
  ASSERT_NE(t.Find(7), nullptr);
  EXPECT_EQ(*t.Find(7), nullptr);
  EXPECT_EQ(t.Find(8), nullptr);
  EXPECT_EQ(t.Find(99'999), nullptr);
  t.Define(256, &known);
  EXPECT_TRUE(known);

  LabelBlock gone = t.Erase(256);
  ASSERT_NE(gone, nullptr);
  EXPECT_EQ(LabelBlockBytes(gone.get()), "labels-256");
  EXPECT_EQ(t.Find(256), nullptr);  // its page is empty and gone
  EXPECT_EQ(t.Erase(256), nullptr);
  EXPECT_EQ(t.Erase(7), nullptr);  // dropped: nothing to hand back
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(LabelBlockBytes(t.Find(255)->get()), "labels-255");
  EXPECT_EQ(LabelBlockBytes(MakeLabelBlock("").get()), "");
}

}  // namespace
}  // namespace shardwise::remotewrite
