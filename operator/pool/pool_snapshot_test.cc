#include "operator/pool/pool_snapshot.h"

#include <gtest/gtest.h>

namespace shardwise::pool {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

PoolSnapshot Snap(const std::string& name, Clock::time_point at, int shards, double series) {
  PoolSnapshot s;
  s.ns = "mon";
  s.name = name;
  s.taken = at;
  s.shard_count = shards;
  s.desired_shards = shards;
  s.series = series;
  return s;
}

TEST(SnapshotStoreTest, KeepsTheLatestPerPoolAndABoundedSpacedHistory) {
  SnapshotStore store({.history_step = 5s, .history_points = 3});
  const auto t0 = Clock::from_time_t(1'800'000'000);
  store.Publish(Snap("main", t0, 1, 100));
  store.Publish(Snap("main", t0 + 1s, 1, 110));  // too soon: no point, but the latest
  EXPECT_EQ(store.Get("mon", "main")->series, 110);
  EXPECT_EQ(store.Get("mon", "main")->history.size(), 1u);

  store.Publish(Snap("main", t0 + 2s, 2, 120), "scraper shards 1 -> 2: load");  // kept
  store.Publish(Snap("main", t0 + 10s, 2, 130));
  store.Publish(Snap("main", t0 + 20s, 2, 140));
  auto s = store.Get("mon", "main");
  ASSERT_EQ(s->history.size(), 3u);  // the oldest fell off
  EXPECT_EQ(s->history[0].decision, "scraper shards 1 -> 2: load");
  EXPECT_EQ(s->history[0].shards, 2);
  EXPECT_EQ(s->history[2].series, 140);

  store.Publish(Snap("aux", t0, 1, 1));
  auto all = store.List();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]->name, "aux");  // sorted
  store.Remove("mon", "aux");
  EXPECT_EQ(store.Get("mon", "aux"), nullptr);
  EXPECT_EQ(store.List().size(), 1u);
}

}  // namespace
}  // namespace shardwise::pool
