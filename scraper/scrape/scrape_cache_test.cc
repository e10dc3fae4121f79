#include "scraper/scrape/scrape_cache.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace shardwise::scrape {
namespace {

std::set<uint64_t> Commit(ScrapeCache& cache) {
  std::set<uint64_t> stale;
  cache.Commit([&](ScrapeCache::Entry& n) { stale.insert(n.ref); });
  return stale;
}

// One pass over `raws`: entries get ref = index + 1 on insertion.
void Pass(ScrapeCache& cache, std::initializer_list<std::pair<const char*, uint64_t>> series) {
  cache.Begin();
  for (const auto& [raw, ref] : series) {
    ScrapeCache::Entry* n = cache.Find(raw);
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
      ScrapeCache::Entry* n = cache.Find(raw);
      if (ref == 0) {
        EXPECT_EQ(n, nullptr) << raw;
        continue;
      }
      ASSERT_NE(n, nullptr) << raw;
      EXPECT_EQ(n->ref, ref) << raw;
      cache.MarkSeen(n, true);
    }
    EXPECT_TRUE(Commit(cache).empty());
  }
}

TEST(ScrapeCacheTest, DuplicateInOnePassIsRejected) {
  ScrapeCache cache;
  cache.Begin();
  ScrapeCache::Entry* n = cache.Add("a", {});
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
  cache.CommitPartial([&](ScrapeCache::Entry& n) { stale.insert(n.ref); });
  EXPECT_EQ(stale, (std::set<uint64_t>{2}));  // b only: a was seen before the failure
  ASSERT_NE(cache.Find("new"), nullptr);
  EXPECT_EQ(cache.Find("new")->ref, 0u);  // its appender was rolled back
  EXPECT_EQ(cache.LiveSeries(), 2u);
}

TEST(ScrapeCacheTest, FailReportsTheLiveSetAndForgetsNewEntries) {
  ScrapeCache cache;
  Pass(cache, {{"a", 1}, {"b", 2}});
  Commit(cache);
  Pass(cache, {{"a", 1}, {"new", 3}});
  std::set<uint64_t> stale;
  cache.Fail([&](ScrapeCache::Entry& n) { stale.insert(n.ref); });
  EXPECT_EQ(stale, (std::set<uint64_t>{1, 2}));  // all of the last committed set
  EXPECT_EQ(cache.Find("new"), nullptr);
  EXPECT_EQ(cache.LiveSeries(), 0u);
  stale.clear();
  cache.Begin();
  cache.Fail([&](ScrapeCache::Entry& n) { stale.insert(n.ref); });
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
  cache.ForEachLive([&](ScrapeCache::Entry& n) { live.insert(n.ref); });
  EXPECT_EQ(live, (std::set<uint64_t>{1, 2}));
  cache.MarkAllStale();
  live.clear();
  cache.ForEachLive([&](ScrapeCache::Entry& n) { live.insert(n.ref); });
  EXPECT_TRUE(live.empty());
}

TEST(ScrapeCacheTest, ChurnReusesEntriesAndCompactsTheArena) {
  // Every pass replaces half the series: evicted texts become garbage the arena sheds, ids
  // are reused, and every lookup still finds the right entry.
  ScrapeCache cache;
  size_t after_first = 0;
  for (int pass = 0; pass < 50; ++pass) {
    cache.Begin();
    for (int i = 0; i < 1000; ++i) {
      const int id = i < 500 ? i : pass * 1000 + i;  // 500 stable, 500 new each pass
      const std::string raw = "metric_with_a_long_name{series=\"" + std::to_string(id) + "\"}";
      ScrapeCache::Entry* e = cache.Find(raw);
      if (e == nullptr) e = cache.Add(raw, ScrapeCache::Entry{.ref = static_cast<uint64_t>(id)});
      ASSERT_NE(e, nullptr);
      EXPECT_EQ(e->ref, static_cast<uint64_t>(id)) << raw;
      EXPECT_EQ(cache.Raw(*e), raw);
      cache.MarkSeen(e, true);
    }
    std::set<uint64_t> stale = Commit(cache);
    EXPECT_EQ(stale.size(), pass == 0 ? 0u : 500u);
    EXPECT_EQ(cache.size(), 1000u);
    if (pass == 0) after_first = cache.MemoryBytes();
  }
  EXPECT_LT(cache.MemoryBytes(), after_first * 2);
  cache.Begin();
  Commit(cache);  // the target exposes nothing any more
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_LT(cache.MemoryBytes(), 256u);
}

}  // namespace
}  // namespace shardwise::scrape
