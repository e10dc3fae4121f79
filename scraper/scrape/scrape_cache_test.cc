#include "scraper/scrape/scrape_cache.h"

#include <gtest/gtest.h>

#include <set>

namespace shardwise::scrape {
namespace {

std::set<uint64_t> Commit(ScrapeCache& cache) {
  std::set<uint64_t> stale;
  cache.Commit([&](ScrapeCache::Node& n) { stale.insert(n.second.ref); });
  return stale;
}

// One pass over `raws`: entries get ref = index + 1 on insertion.
void Pass(ScrapeCache& cache, std::initializer_list<std::pair<const char*, uint64_t>> series) {
  cache.Begin();
  for (const auto& [raw, ref] : series) {
    ScrapeCache::Node* n = cache.Find(raw);
    if (n == nullptr) {
      ScrapeCache::Entry e;
      e.ref = ref;
      n = cache.Add(raw, std::move(e));
    }
    cache.MarkSeen(n, true);
  }
}

TEST(ScrapeCacheTest, LookupByRawTextWithoutCopy) {
  ScrapeCache cache;
  Pass(cache, {{"a{x=\"1\"}", 1}});
  EXPECT_TRUE(Commit(cache).empty());
  std::string_view raw = "a{x=\"1\"} trailing";
  EXPECT_NE(cache.Find(raw.substr(0, 8)), nullptr);
  EXPECT_EQ(cache.Find("a{x=\"2\"}"), nullptr);
}

TEST(ScrapeCacheTest, CommitReportsVanishedSeriesOnce) {
  ScrapeCache cache;
  Pass(cache, {{"a", 1}, {"b", 2}, {"c", 3}});
  Commit(cache);
  Pass(cache, {{"a", 1}, {"c", 3}});
  EXPECT_EQ(Commit(cache), (std::set<uint64_t>{2}));
  EXPECT_EQ(cache.size(), 2u);
  Pass(cache, {{"a", 1}});
  EXPECT_EQ(Commit(cache), (std::set<uint64_t>{3}));
  EXPECT_EQ(cache.LiveSeries(), 1u);
}

TEST(ScrapeCacheTest, FindsSeriesInAnyOrder) {
  // The lookup predicts the last pass's order; insertions and reorderings must not fool it.
  ScrapeCache cache;
  Pass(cache, {{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}});
  Commit(cache);
  for (const auto& order : std::vector<std::vector<std::pair<const char*, uint64_t>>>{
           {{"a", 1}, {"x", 0}, {"b", 2}, {"c", 3}, {"d", 4}},
           {{"d", 4}, {"c", 3}, {"b", 2}, {"a", 1}},
           {{"b", 2}, {"c", 3}, {"a", 1}, {"d", 4}},
           {{"a", 1}, {"c", 3}, {"d", 4}, {"b", 2}}}) {
    cache.Begin();
    for (const auto& [raw, ref] : order) {
      ScrapeCache::Node* n = cache.Find(raw);
      if (ref == 0) {
        EXPECT_EQ(n, nullptr) << raw;
        continue;
      }
      ASSERT_NE(n, nullptr) << raw;
      EXPECT_EQ(n->second.ref, ref) << raw;
      cache.MarkSeen(n, true);
    }
    EXPECT_TRUE(Commit(cache).empty());
  }
}

TEST(ScrapeCacheTest, DuplicateInOnePassIsRejected) {
  ScrapeCache cache;
  cache.Begin();
  ScrapeCache::Node* n = cache.Add("a", {});
  EXPECT_TRUE(cache.MarkSeen(n, true));
  EXPECT_FALSE(cache.MarkSeen(n, true));
  cache.Begin();
  EXPECT_TRUE(cache.MarkSeen(n, true));
}

TEST(ScrapeCacheTest, CommitPartialKeepsWhatTheFailedPassSaw) {
  ScrapeCache cache;
  Pass(cache, {{"a", 1}, {"b", 2}});
  Commit(cache);
  Pass(cache, {{"a", 1}, {"new", 3}});
  std::set<uint64_t> stale;
  cache.CommitPartial([&](ScrapeCache::Node& n) { stale.insert(n.second.ref); });
  EXPECT_EQ(stale, (std::set<uint64_t>{2}));  // b only: a was seen before the failure
  ASSERT_NE(cache.Find("new"), nullptr);
  EXPECT_EQ(cache.Find("new")->second.ref, 0u);  // its appender was rolled back
  EXPECT_EQ(cache.LiveSeries(), 2u);
}

TEST(ScrapeCacheTest, FailReportsTheLiveSetAndForgetsNewEntries) {
  ScrapeCache cache;
  Pass(cache, {{"a", 1}, {"b", 2}});
  Commit(cache);
  Pass(cache, {{"a", 1}, {"new", 3}});
  std::set<uint64_t> stale;
  cache.Fail([&](ScrapeCache::Node& n) { stale.insert(n.second.ref); });
  EXPECT_EQ(stale, (std::set<uint64_t>{1, 2}));  // all of the last committed set
  EXPECT_EQ(cache.Find("new"), nullptr);
  EXPECT_EQ(cache.LiveSeries(), 0u);
  stale.clear();
  cache.Begin();
  cache.Fail([&](ScrapeCache::Node& n) { stale.insert(n.second.ref); });
  EXPECT_TRUE(stale.empty());  // already stale
  // Recovery: nothing is reported again, and b (gone meanwhile) is evicted.
  Pass(cache, {{"a", 1}});
  EXPECT_TRUE(Commit(cache).empty());
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ScrapeCacheTest, UntrackedAndDroppedSeriesGetNoMarkers) {
  ScrapeCache cache;
  cache.Begin();
  cache.MarkSeen(cache.Add("explicit_ts", ScrapeCache::Entry{.ref = 1}), false);
  ScrapeCache::Entry dropped;
  dropped.ref = 2;
  dropped.dropped = true;
  cache.MarkSeen(cache.Add("dropped", std::move(dropped)), true);
  Commit(cache);
  cache.Begin();
  EXPECT_TRUE(Commit(cache).empty());
  EXPECT_EQ(cache.size(), 0u);
}

TEST(ScrapeCacheTest, ForEachLiveForTheFinalMarkers) {
  ScrapeCache cache;
  Pass(cache, {{"a", 1}, {"b", 2}});
  Commit(cache);
  std::set<uint64_t> live;
  cache.ForEachLive([&](ScrapeCache::Node& n) { live.insert(n.second.ref); });
  EXPECT_EQ(live, (std::set<uint64_t>{1, 2}));
  cache.MarkAllStale();
  live.clear();
  cache.ForEachLive([&](ScrapeCache::Node& n) { live.insert(n.second.ref); });
  EXPECT_TRUE(live.empty());
}

}  // namespace
}  // namespace shardwise::scrape
