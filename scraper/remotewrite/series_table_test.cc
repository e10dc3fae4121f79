#include "scraper/remotewrite/series_table.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace shardwise::remotewrite {
namespace {

TEST(SeriesTableTest, DefineFindEraseAcrossPagesAndSparseRefs) {
  std::map<uint64_t, std::string> blocks;  // what the slots point at
  SeriesTable t;
  bool known = true;
  for (uint64_t ref : {uint64_t{1}, uint64_t{255}, uint64_t{256}, uint64_t{1} << 40}) {
    blocks[ref] = "labels-" + std::to_string(ref);
    t.Define(ref, &known) = blocks[ref].c_str();
    EXPECT_FALSE(known);
  }
  t.Define(7, &known);  // dropped: known, no labels
  EXPECT_EQ(t.size(), 5u);
  ASSERT_NE(t.Find(256), nullptr);
  EXPECT_EQ(*t.Find(256), blocks[256].c_str());
  EXPECT_EQ(*t.Find(uint64_t{1} << 40), blocks[uint64_t{1} << 40].c_str());
  ASSERT_NE(t.Find(7), nullptr);
  EXPECT_EQ(*t.Find(7), nullptr);
  EXPECT_EQ(t.Find(8), nullptr);
  EXPECT_EQ(t.Find(99'999), nullptr);
  t.Define(256, &known);
  EXPECT_TRUE(known);

  EXPECT_EQ(t.Erase(256), blocks[256].c_str());
  EXPECT_EQ(t.Find(256), nullptr);  // its page is empty and gone
  EXPECT_EQ(t.Erase(256), nullptr);
  EXPECT_EQ(t.Erase(7), nullptr);  // dropped: nothing to hand back
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(*t.Find(255), blocks[255].c_str());

  // Defining a ref again after Erase starts from a null slot.
  EXPECT_EQ(t.Define(256, &known), nullptr);
  EXPECT_FALSE(known);

  std::map<uint64_t, const char*> cleared;
  t.Clear([&](uint64_t ref, const char* block) { cleared[ref] = block; });
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.Find(1), nullptr);
  EXPECT_EQ(cleared, (std::map<uint64_t, const char*>{
                         {1, blocks[1].c_str()},
                         {255, blocks[255].c_str()},
                         {256, nullptr},
                         {uint64_t{1} << 40, blocks[uint64_t{1} << 40].c_str()}}));
}

}  // namespace
}  // namespace shardwise::remotewrite
