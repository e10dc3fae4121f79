#include "scraper/tsdb/index/flat_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <unordered_set>

#include "scraper/tsdb/index/label_pairs.h"
#include "scraper/tsdb/index/postings.h"

namespace shardwise::tsdb {
namespace {

// Keys with only 8 distinct hashes: every probe run is long and erasing must shift entries
// back correctly, or later lookups miss.
struct Key {
  uint64_t k = 0;  // 0: empty
};
struct CollidingTraits {
  static bool Empty(const Key& s) { return s.k == 0; }
  static uint64_t Hash(const Key& s) { return s.k % 8; }
};

TEST(FlatTableTest, MatchesAReferenceSetUnderRandomInsertsAndErases) {
  FlatTable<Key, CollidingTraits> table;
  std::unordered_set<uint64_t> reference;
  std::mt19937_64 rng(7);
  for (int step = 0; step < 20000; ++step) {
    uint64_t k = 1 + rng() % 500;
    Key* found = table.Find(k % 8, [&](const Key& s) { return s.k == k; });
    ASSERT_EQ(found != nullptr, reference.count(k) > 0) << "step " << step << " key " << k;
    if (found) {
      table.Erase(found);
      reference.erase(k);
    } else {
      table.Insert(Key{k});
      reference.insert(k);
    }
    ASSERT_EQ(table.size(), reference.size());
  }
  size_t seen = 0;
  table.ForEach([&](const Key& s) {
    EXPECT_TRUE(reference.count(s.k));
    ++seen;
  });
  EXPECT_EQ(seen, reference.size());
}

TEST(FlatTableTest, EmptiedTableReleasesItsSlots) {
  FlatTable<Key, CollidingTraits> table;
  for (uint64_t k = 1; k <= 1000; ++k) table.Insert(Key{k});
  EXPECT_GT(table.MemoryBytes(), 1000 * sizeof(Key));
  for (uint64_t k = 1; k <= 1000; ++k) {
    table.Erase(table.Find(k % 8, [&](const Key& s) { return s.k == k; }));
  }
  EXPECT_TRUE(table.empty());
  EXPECT_EQ(table.MemoryBytes(), 0u);
}

std::vector<uint64_t> Refs(const PostingsList& l) { return l.Decode(); }

TEST(PostingsListTest, StaysSortedAndUniqueFromInlineToHeapAndBack) {
  PostingsList l;
  EXPECT_TRUE(l.empty());
  l.Insert(5);
  EXPECT_EQ(Refs(l), (std::vector<uint64_t>{5}));
  EXPECT_EQ(l.HeapBytes(), 0u);  // one ref lives inline
  l.Insert(5);
  l.Insert(2);
  l.Insert(9);
  for (uint64_t r = 100; r < 110; ++r) l.Insert(r);
  l.Insert(7);
  std::vector<uint64_t> want = {2, 5, 7, 9};
  for (uint64_t r = 100; r < 110; ++r) want.push_back(r);
  EXPECT_EQ(Refs(l), want);

  PostingsList moved(std::move(l));
  EXPECT_EQ(Refs(moved), want);
  std::unordered_set<uint64_t> doomed(want.begin(), want.end());
  doomed.erase(7);
  moved.Remove(doomed);
  EXPECT_EQ(Refs(moved), (std::vector<uint64_t>{7}));
  EXPECT_EQ(moved.HeapBytes(), 0u);  // back inline
  moved.Remove({7});
  EXPECT_TRUE(moved.empty());
  moved.Insert(3);
  EXPECT_EQ(Refs(moved), (std::vector<uint64_t>{3}));
}

TEST(PostingsListTest, MatchesAReferenceSetWithDeltasOfEveryWidth) {
  PostingsList l;
  std::set<uint64_t> reference;
  std::mt19937_64 rng(11);
  uint64_t next = 1;
  for (int step = 0; step < 3000; ++step) {
    uint64_t ref;
    switch (rng() % 5) {
      case 0:  // far above: multi-byte deltas up to the top of the range
        next += uint64_t{1} << (rng() % 62);
        ref = next;
        break;
      case 1:  // below the last: the decode and re-encode path
        ref = rng() % next;
        break;
      default:  // dense, as refs are handed out
        ref = ++next;
    }
    l.Insert(ref);
    reference.insert(ref);
    if (step % 500 == 499) {
      std::unordered_set<uint64_t> doomed;
      for (uint64_t r : reference) {
        if (rng() % 3 == 0) doomed.insert(r);
      }
      l.Remove(doomed);
      for (uint64_t r : doomed) reference.erase(r);
    }
    ASSERT_EQ(l.size(), reference.size());
  }
  EXPECT_EQ(Refs(l), std::vector<uint64_t>(reference.begin(), reference.end()));
}

TEST(PostingsListTest, DenseRefsTakeAboutAByteEach) {
  PostingsList l;
  for (uint64_t ref = 1'000'000; ref < 1'100'000; ref += 3) l.Insert(ref);
  EXPECT_LT(l.HeapBytes(), 33'334u * 5 / 4 + 64);
  EXPECT_EQ(l.Decode().front(), 1'000'000u);
  EXPECT_EQ(l.Decode().back(), 1'099'999u);
}

TEST(LabelPairsTest, InternsPairsOnceAndFreesThemWithTheirLastSeries) {
  auto table = std::make_shared<storage::LabelPairTable>();
  LabelPairs pairs(table);
  std::vector<uint32_t> ids;
  for (uint64_t ref = 1; ref <= 6; ++ref)
    ids.push_back(pairs.Add("job", ref % 2 ? "node" : "api", ref));
  EXPECT_EQ(ids[0], ids[2]);
  EXPECT_NE(ids[0], ids[1]);
  EXPECT_EQ(pairs.size(), 2u);
  EXPECT_EQ(table->size(), 2u);
  EXPECT_EQ(pairs.name(ids[1]), "job");
  EXPECT_EQ(pairs.value(ids[1]), "api");
  EXPECT_EQ(pairs.Find("job", "api"), ids[1]);
  EXPECT_EQ(pairs.Find("job", "nope"), LabelPairs::kNone);
  auto get = [&](std::string_view n, std::string_view v) { return pairs.Get(n, v); };
  EXPECT_EQ(get("job", "node"), (std::vector<uint64_t>{1, 3, 5}));
  EXPECT_EQ(get("job", "api"), (std::vector<uint64_t>{2, 4, 6}));
  EXPECT_TRUE(get("job", "nope").empty());
  EXPECT_TRUE(get("nope", "node").empty());
  pairs.Remove(ids[1], {2, 4});
  EXPECT_EQ(get("job", "api"), (std::vector<uint64_t>{6}));
  pairs.Remove(ids[1], {6});
  EXPECT_TRUE(get("job", "api").empty());
  EXPECT_EQ(pairs.Find("job", "api"), LabelPairs::kNone);
  EXPECT_EQ(pairs.size(), 1u);
  EXPECT_EQ(table->size(), 1u);  // job=api went with its last series
  std::map<std::string, size_t> values;
  pairs.ForEachValue(
      "job", [&](std::string_view v, const PostingsList& p) { values[std::string(v)] = p.size(); });
  EXPECT_EQ(values, (std::map<std::string, size_t>{{"node", 3}}));
  // A freed id is reused.
  EXPECT_EQ(pairs.Add("pod", "a", 9), ids[1]);
  pairs.Remove(ids[0], {1, 3, 5});
  pairs.Remove(ids[1], {9});
  EXPECT_EQ(pairs.size(), 0u);
  EXPECT_EQ(table->size(), 0u);
  int names = 0;
  pairs.ForEachName([&](std::string_view) { ++names; });
  EXPECT_EQ(names, 0);
}

TEST(LabelPairsTest, PairsAnotherHolderKeepsOutliveTheHeadsSeries) {
  // Remote write holds pairs of series the head has dropped: they stay readable, and the
  // head neither reports them nor finds them until a series of its own carries them again.
  auto table = std::make_shared<storage::LabelPairTable>();
  LabelPairs pairs(table);
  const uint32_t id = pairs.Add("pod", "a", 1);
  const uint32_t other = table->Acquire("pod", "a");  // remote write's reference
  EXPECT_EQ(other, id);
  const uint32_t outside = table->Acquire("cluster", "eu");  // an external label
  EXPECT_EQ(pairs.Find("cluster", "eu"), LabelPairs::kNone);
  EXPECT_TRUE(pairs.Get("cluster", "eu").empty());
  pairs.Remove(id, {1});
  EXPECT_EQ(pairs.Find("pod", "a"), LabelPairs::kNone);
  EXPECT_EQ(pairs.size(), 0u);
  EXPECT_EQ(table->value(id), "a");
  EXPECT_EQ(table->size(), 2u);
  EXPECT_EQ(pairs.Add("pod", "a", 2), id);
  pairs.Remove(id, {2});
  table->Release(id);
  table->Release(outside);
  EXPECT_EQ(table->size(), 0u);
}

}  // namespace
}  // namespace shardwise::tsdb
