// The WAL size cap (DBOptions::max_wal_bytes): past it the oldest closed segments go even
// if a WAL consumer has not acknowledged them; under it nothing unacknowledged goes.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <thread>

#include "scraper/tsdb/db.h"
#include "scraper/tsdb/metrics.h"
#include "scraper/tsdb/testutil.h"

namespace shardwise::tsdb {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::TempDir;

constexpr uint64_t kSegment = 4 << 10;
constexpr uint64_t kCap = 16 << 10;

Labels SeriesLabels(int i) {
  return Labels{{"__name__", "cap_test"}, {"instance", "host-" + std::to_string(i)}};
}

DBOptions CapOptions() {
  DBOptions o;
  o.wal_segment_size = kSegment;
  o.max_wal_bytes = kCap;
  o.retention = std::chrono::hours(24);  // retention alone would delete nothing here
  o.retention_interval = 0ms;
  return o;
}

// One commit of `series` series at t_ms.
void Scrape(DB& db, int series, int round, int64_t t_ms) {
  auto app = db.NewAppender();
  for (int i = 0; i < series; ++i) {
    storage::SeriesRef ref = 0;
    ASSERT_TRUE(app->Append(ref, SeriesLabels(i), t_ms, round).ok());
  }
  ASSERT_TRUE(app->Commit().ok());
}

// Labels from the newest checkpoint and every series record from FirstSegment() on; true
// if every sample on disk refers to a known series.
bool EverySampleResolves(const DB& db, size_t* samples) {
  std::map<uint64_t, Labels> labels;
  auto cp = LatestCheckpoint(db.wal_dir());
  if (!cp.ok()) return false;
  if (cp->has_value()) {
    std::vector<SeriesRecord> series;
    if (!ReadCheckpoint((*cp)->path, &series).ok()) return false;
    for (auto& s : series) labels[s.ref] = s.labels;
  }
  wal::Tailer tailer(db.wal_dir(), {db.FirstSegment(), 0});
  bool ok = true;
  for (;;) {
    auto rec = tailer.Next();
    if (!rec.ok()) return false;
    if (!rec->has_value()) break;
    if (PeekRecordType((*rec)->payload) == RecordType::kSeries) {
      std::vector<SeriesRecord> more;
      if (!DecodeSeries((*rec)->payload, &more).ok()) return false;
      for (auto& s : more) labels[s.ref] = s.labels;
    } else {
      std::vector<SampleRecord> batch;
      if (!DecodeSamples((*rec)->payload, &batch).ok()) return false;
      for (auto& s : batch) {
        ++*samples;
        if (!labels.count(s.ref)) ok = false;
      }
    }
  }
  return ok && tailer.damage().empty();
}

TEST(WalCapTest, DropsTheOldestUnacknowledgedSegmentsOncePastTheCap) {
  TempDir dir("walcap");
  auto& m = TsdbMetrics::Get();
  const double segments_before = m.wal_segments_dropped_unacknowledged.Value();
  const double bytes_before = m.wal_bytes_dropped_unacknowledged.Value();
  auto db = DB::Open(dir.path(), CapOptions());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto stuck = (*db)->RegisterWalConsumer("remote_write/dead");
  auto keeping_up = (*db)->RegisterWalConsumer("remote_write/alive");
  for (int round = 0; round < 400; ++round) {
    Scrape(**db, 20, round, round * 15000);
    keeping_up->SetAcknowledged((*db)->WalEnd());
  }
  // The background check (after each segment cut) may already have done part of the work.
  auto r = (*db)->ApplyRetention();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LE((*db)->WalBytes(), kCap + kSegment);
  EXPECT_GT((*db)->FirstSegment(), 0u);
  auto segments = wal::ListSegments((*db)->wal_dir());
  ASSERT_TRUE(segments.ok());
  EXPECT_EQ(segments->front(), (*db)->FirstSegment());

  // Counted: everything the dead consumer had not acknowledged, which is all of it.
  EXPECT_GT(m.wal_segments_dropped_unacknowledged.Value(), segments_before);
  EXPECT_GT(m.wal_bytes_dropped_unacknowledged.Value(), bytes_before);
  EXPECT_EQ(r->segments_dropped_unacknowledged, r->segments_deleted);
  if (!r->segments_deleted.empty()) {
    EXPECT_EQ(r->lagging_consumers, std::vector<std::string>{"remote_write/dead"});
  }

  // The head keeps everything; the WAL alone lost its oldest segments.
  auto all = (*db)->Query({Matcher::Equal("instance", "host-3")}, 0, INT64_MAX);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].samples.size(), 400u);
  // Every sample left on disk resolves to labels, series created in deleted segments too.
  size_t samples = 0;
  EXPECT_TRUE(EverySampleResolves(**db, &samples));
  EXPECT_GT(samples, 0u);

  // Appends go on, and a reopened DB replays checkpoint + remaining segments.
  Scrape(**db, 20, 400, 400 * 15000);
  db->reset();
  auto reopened = DB::Open(dir.path(), CapOptions());
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_TRUE((*reopened)->replay_report().damage.empty());
  auto recent = (*reopened)->Query({Matcher::Equal("instance", "host-3")}, 0, INT64_MAX);
  ASSERT_EQ(recent.size(), 1u);
  EXPECT_EQ(recent[0].samples.back().t, 400 * 15000);
  // Its series record was in segment 0, long deleted: the labels came from the
  // checkpoint. The dropped segments' samples are gone from the replayed head.
  EXPECT_LT(recent[0].samples.size(), 401u);
}

TEST(WalCapTest, UnderTheCapUnacknowledgedSegmentsStay) {
  TempDir dir("walcap_under");
  DBOptions o = CapOptions();
  o.max_wal_bytes = 8 << 20;
  o.retention = std::chrono::milliseconds(100'000);
  auto db = DB::Open(dir.path(), o);
  ASSERT_TRUE(db.ok());
  auto stuck = (*db)->RegisterWalConsumer("remote_write/dead");
  for (int round = 0; round < 200; ++round) Scrape(**db, 20, round, round * 15000);
  auto before = *wal::ListSegments((*db)->wal_dir());
  ASSERT_GT(before.size(), 5u);
  auto r = (*db)->ApplyRetention();  // nearly everything is past retention, but unsent
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->chunks_removed, 0u);
  EXPECT_TRUE(r->segments_deleted.empty());
  EXPECT_TRUE(r->segments_dropped_unacknowledged.empty());
  EXPECT_EQ(*wal::ListSegments((*db)->wal_dir()), before);
  r = (*db)->EnforceWalSizeCap();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->segments_deleted.empty());

  // Once acknowledged, plain retention deletes them and nothing counts as dropped.
  stuck->SetAcknowledged((*db)->WalEnd());
  r = (*db)->ApplyRetention();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->segments_deleted.empty());
  EXPECT_TRUE(r->segments_dropped_unacknowledged.empty());
  EXPECT_TRUE(r->lagging_consumers.empty());
}

TEST(WalCapTest, SegmentCutsTriggerTheCheckWithoutRetentionRunning) {
  TempDir dir("walcap_bg");
  auto& m = TsdbMetrics::Get();
  const double dropped_before = m.wal_segments_dropped_unacknowledged.Value();
  auto db = DB::Open(dir.path(), CapOptions());  // retention_interval 0: no periodic pass
  ASSERT_TRUE(db.ok());
  auto stuck = (*db)->RegisterWalConsumer("remote_write/dead");
  // Keep appending (every commit succeeds: nothing waits for the consumer) until the
  // background check has dropped something, bounded in rounds and time.
  const auto deadline = Clock::now() + 20s;
  int round = 0;
  while (m.wal_segments_dropped_unacknowledged.Value() == dropped_before &&
         Clock::now() < deadline && round < 20000) {
    Scrape(**db, 20, round, round * 15000);
    ++round;
  }
  ASSERT_GT(m.wal_segments_dropped_unacknowledged.Value(), dropped_before);
  // Once the appends stop, the check settles the WAL within cap + the open segment.
  while ((*db)->WalBytes() > kCap + kSegment && Clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);  // polling interval, not synchronisation
  }
  EXPECT_LE((*db)->WalBytes(), kCap + kSegment);
  // Wait out a check still in flight (they are serialised), then read what is on disk.
  ASSERT_TRUE((*db)->EnforceWalSizeCap().ok());
  size_t samples = 0;
  EXPECT_TRUE(EverySampleResolves(**db, &samples));
  EXPECT_GT(samples, 0u);
}

// The cap holds with any segment size: 64 MiB segments (the scraper's default) under a
// 256 KiB cap are sized down to a quarter of the cap, and the bytes on disk -- segments,
// checkpoint and the checkpoint reserve, every file in the WAL directory -- stay within
// the cap plus one segment while checkpoints are written over and over.
TEST(WalCapTest, SmallCapWithDefaultSegmentsCountsCheckpointsToo) {
  TempDir dir("walcap_small");
  DBOptions o = CapOptions();
  o.wal_segment_size = 64 << 20;
  o.max_wal_bytes = 256 << 10;
  auto db = DB::Open(dir.path(), o);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ((*db)->options().wal_segment_size, o.max_wal_bytes / 4);
  auto stuck = (*db)->RegisterWalConsumer("remote_write/dead");
  auto files_bytes = [&] {
    uint64_t total = 0;
    for (const auto& e : std::filesystem::directory_iterator((*db)->wal_dir())) {
      total += e.file_size();
    }
    return total;
  };
  uint64_t worst = 0;
  const double checkpoints_before = TsdbMetrics::Get().checkpoint_runs.Value();
  for (int round = 0; round < 3000; ++round) {
    Scrape(**db, 50, round, round * 15000);
    if (round % 100 == 99) {
      ASSERT_TRUE((*db)->EnforceWalSizeCap().ok());
      worst = std::max(worst, files_bytes());
    }
  }
  EXPECT_GT(TsdbMetrics::Get().checkpoint_runs.Value() - checkpoints_before, 3);
  EXPECT_LE(worst, o.max_wal_bytes + o.max_wal_bytes / 4);
  // The reserve is there, and the checkpoint counts.
  EXPECT_TRUE(std::filesystem::exists(CheckpointReservePath((*db)->wal_dir())));
  EXPECT_TRUE(LatestCheckpoint((*db)->wal_dir())->has_value());
}

}  // namespace
}  // namespace shardwise::tsdb
