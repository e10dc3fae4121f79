#include "scraper/remotewrite/series_store.h"

#include <gtest/gtest.h>

#include "scraper/remotewrite/encoder.h"

namespace shardwise::remotewrite {
namespace {

std::string Encoded(const SeriesStore& store, const char* block) {
  std::string out;
  for (uint32_t id : LabelBlockIds(block)) out += store.pairs().encoded(id);
  return out;
}

std::string Encoded(const Labels& labels) {
  std::string out;
  EncodeLabels(labels, &out);
  return out;
}

TEST(SeriesStoreTest, EqualLabelsForARefAreHeldOnceAndFreedWithTheLastHolder) {
  auto pairs = std::make_shared<storage::LabelPairTable>();
  SeriesStore store(pairs);
  const Labels labels{{"__name__", "up"}, {"cluster", "c"}, {"job", "api"}};
  const uint32_t view = store.View("cluster=c");
  EXPECT_EQ(store.View("cluster=c"), view);
  const char* a = store.Acquire(view, 7, labels);
  const char* b = store.Acquire(view, 7, labels);  // a second endpoint
  EXPECT_EQ(a, b);
  EXPECT_TRUE(store.Equal(a, labels));
  EXPECT_EQ(Encoded(store, a), Encoded(labels));
  EXPECT_EQ(LabelBlockEncodedSize(a), Encoded(labels).size());
  EXPECT_EQ(store.usage().blocks, 1u);
  EXPECT_EQ(store.usage().bytes, 8u + 3 * 4u);
  EXPECT_EQ(pairs->size(), 3u);

  store.Release(view, 7, a);
  EXPECT_EQ(store.usage().blocks, 1u);  // the other endpoint still sends it
  EXPECT_EQ(Encoded(store, b), Encoded(labels));
  store.Release(view, 7, b);
  EXPECT_EQ(store.usage().blocks, 0u);
  EXPECT_EQ(store.usage().bytes, 0u);
  EXPECT_EQ(pairs->size(), 0u) << "the pairs go with the last block holding them";

  // Gone from the index too: the next definition is a new block.
  const char* c = store.Acquire(view, 7, labels);
  EXPECT_EQ(store.usage().blocks, 1u);
  store.Release(view, 7, c);
  EXPECT_EQ(store.usage().blocks, 0u);
}

TEST(SeriesStoreTest, ViewsAndRedefinitionsGetTheirOwnBlocks) {
  auto pairs = std::make_shared<storage::LabelPairTable>();
  SeriesStore store(pairs);
  const Labels x{{"a", "x"}}, y{{"a", "y"}};
  const uint32_t plain = store.View("");
  const uint32_t relabeled = store.View(std::string("\0b", 2));
  EXPECT_NE(plain, relabeled);
  const char* p = store.Acquire(plain, 1, x);
  const char* r = store.Acquire(relabeled, 1, x);
  EXPECT_NE(p, r);  // same labels, but another view is not to be trusted to stay equal
  EXPECT_EQ(LabelBlockIds(p)[0], LabelBlockIds(r)[0]) << "one pair for both";
  EXPECT_EQ(pairs->size(), 1u);

  // A ref redefined with other labels: the old block lives on for its holder, the new one
  // is what later acquirers share.
  const char* p2 = store.Acquire(plain, 1, y);
  EXPECT_NE(p2, p);
  EXPECT_EQ(store.Acquire(plain, 1, y), p2);
  EXPECT_TRUE(store.Equal(p, x));
  EXPECT_EQ(store.usage().blocks, 3u);
  store.Release(plain, 1, p);  // frees the old block, leaves the new one indexed
  EXPECT_EQ(store.usage().blocks, 2u);
  EXPECT_EQ(store.Acquire(plain, 1, y), p2);
  for (int i = 0; i < 3; ++i) store.Release(plain, 1, p2);
  store.Release(relabeled, 1, r);
  EXPECT_EQ(store.usage().blocks, 0u);
  EXPECT_EQ(pairs->size(), 0u);
}

}  // namespace
}  // namespace shardwise::remotewrite
