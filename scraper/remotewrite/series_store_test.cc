#include "scraper/remotewrite/series_store.h"

#include <gtest/gtest.h>

namespace shardwise::remotewrite {
namespace {

TEST(SeriesStoreTest, EqualLabelsForARefAreHeldOnceAndFreedWithTheLastHolder) {
  SeriesStore store;
  const uint32_t view = store.View("cluster=c");
  EXPECT_EQ(store.View("cluster=c"), view);
  const char* a = store.Acquire(view, 7, "labels-7");
  const char* b = store.Acquire(view, 7, "labels-7");  // a second endpoint
  EXPECT_EQ(a, b);
  EXPECT_EQ(LabelBlockBytes(a), "labels-7");
  EXPECT_EQ(store.usage().blocks, 1u);
  EXPECT_EQ(store.usage().bytes, 8u + 8u);

  store.Release(view, 7, a);
  EXPECT_EQ(store.usage().blocks, 1u);  // the other endpoint still sends it
  EXPECT_EQ(LabelBlockBytes(b), "labels-7");
  store.Release(view, 7, b);
  EXPECT_EQ(store.usage().blocks, 0u);
  EXPECT_EQ(store.usage().bytes, 0u);

  // Gone from the index too: the next definition is a new block.
  const char* c = store.Acquire(view, 7, "labels-7");
  EXPECT_EQ(store.usage().blocks, 1u);
  store.Release(view, 7, c);
  EXPECT_EQ(store.usage().blocks, 0u);
}

TEST(SeriesStoreTest, ViewsAndRedefinitionsGetTheirOwnBlocks) {
  SeriesStore store;
  const uint32_t plain = store.View("");
  const uint32_t relabeled = store.View(std::string("\0b", 2));
  EXPECT_NE(plain, relabeled);
  const char* p = store.Acquire(plain, 1, "x");
  const char* r = store.Acquire(relabeled, 1, "x");
  EXPECT_NE(p, r);  // same bytes, but another view is not to be trusted to stay equal

  // A ref redefined with other labels: the old block lives on for its holder, the new one
  // is what later acquirers share.
  const char* p2 = store.Acquire(plain, 1, "y");
  EXPECT_NE(p2, p);
  EXPECT_EQ(store.Acquire(plain, 1, "y"), p2);
  EXPECT_EQ(LabelBlockBytes(p), "x");
  EXPECT_EQ(store.usage().blocks, 3u);
  store.Release(plain, 1, p);  // frees the old block, leaves the new one indexed
  EXPECT_EQ(store.usage().blocks, 2u);
  EXPECT_EQ(store.Acquire(plain, 1, "y"), p2);
  for (int i = 0; i < 3; ++i) store.Release(plain, 1, p2);
  store.Release(relabeled, 1, r);
  EXPECT_EQ(store.usage().blocks, 0u);
}

}  // namespace
}  // namespace shardwise::remotewrite
