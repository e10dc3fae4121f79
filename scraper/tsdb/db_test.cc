#include "scraper/tsdb/db.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "scraper/tsdb/metrics.h"
#include "scraper/tsdb/testutil.h"

namespace shardwise::tsdb {
namespace {

using testing::TempDir;

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, 8);
  return b;
}

Labels SeriesLabels(int i) {
  return Labels{{"__name__", "metric_" + std::to_string(i % 10)},
                {"job", "job" + std::to_string(i % 3)},
                {"instance", "host-" + std::to_string(i)}};
}

DBOptions TestOptions() {
  DBOptions o;
  o.retention_interval = std::chrono::milliseconds(0);  // tests call ApplyRetention()
  o.fsync_policy = FsyncPolicy::kInterval;
  return o;
}

// Appends `scrapes` scrapes of `series` series, one commit per scrape, t = base + k*step.
void Fill(DB& db, int series, int scrapes, int64_t base, int64_t step,
          const std::function<double(int, int)>& value) {
  std::vector<storage::SeriesRef> refs(series, 0);
  for (int k = 0; k < scrapes; ++k) {
    auto app = db.NewAppender();
    for (int i = 0; i < series; ++i) {
      ASSERT_TRUE(app->Append(refs[i], SeriesLabels(i), base + k * step, value(i, k)).ok());
    }
    ASSERT_TRUE(app->Commit().ok());
  }
}

TEST(DBTest, MillionSamplesReplayBitForBit) {
  TempDir dir("million");
  constexpr int kSeries = 1000, kScrapes = 1000;
  std::mt19937_64 rng(1);
  std::vector<std::vector<uint64_t>> values(kSeries, std::vector<uint64_t>(kScrapes));
  for (auto& s : values) {
    for (auto& v : s) {
      switch (rng() % 4) {
        case 0:
          v = rng();
          break;  // arbitrary bit patterns, NaN payloads included
        case 1:
          v = storage::kStaleNaNBits;
          break;
        default:
          v = Bits(static_cast<double>(rng() % 1000));
          break;
      }
    }
  }
  auto value = [&](int i, int k) {
    double d;
    std::memcpy(&d, &values[i][k], 8);
    return d;
  };
  {
    DBOptions o = TestOptions();
    o.wal_segment_size = 4 << 20;
    auto db = DB::Open(dir.path(), o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    Fill(**db, kSeries, kScrapes, 1'700'000'000'000, 15'000, value);
    EXPECT_EQ((*db)->head().Stats().samples_appended, uint64_t{kSeries} * kScrapes);
  }
  auto db = DB::Open(dir.path(), TestOptions());
  ASSERT_TRUE(db.ok());
  EXPECT_TRUE((*db)->replay_report().damage.empty());
  EXPECT_GT((*db)->replay_report().segments.size(), 2u);
  auto got = (*db)->Query({Matcher::Equal("job", "job0")}, 0, INT64_MAX);
  auto got1 = (*db)->Query({*Matcher::Make(Matcher::Type::kNotEqual, "job", "job0")}, 0, INT64_MAX);
  got.insert(got.end(), got1.begin(), got1.end());
  ASSERT_EQ(got.size(), size_t{kSeries});
  size_t checked = 0;
  for (const auto& s : got) {
    int i = std::stoi(std::string(s.labels.Get("instance")).substr(5));
    ASSERT_EQ(s.labels, SeriesLabels(i));
    ASSERT_EQ(s.samples.size(), size_t{kScrapes});
    for (int k = 0; k < kScrapes; ++k) {
      ASSERT_EQ(s.samples[k].t, 1'700'000'000'000 + k * 15'000);
      ASSERT_EQ(Bits(s.samples[k].v), values[i][k]) << i << "/" << k;
      ++checked;
    }
  }
  EXPECT_EQ(checked, size_t{kSeries} * kScrapes);
}

TEST(DBTest, AppenderRejectsOutOfOrderDuplicatesAndExtraSeries) {
  TempDir dir("reject");
  DBOptions o = TestOptions();
  o.max_series = 2;
  auto db = DB::Open(dir.path(), o);
  ASSERT_TRUE(db.ok());
  auto app = (*db)->NewAppender();
  storage::SeriesRef a = 0, b = 0, c = 0;
  ASSERT_TRUE(app->Append(a, SeriesLabels(1), 2000, 1).ok());
  ASSERT_TRUE(app->Append(b, SeriesLabels(2), 2000, 1).ok());
  Status over = app->Append(c, SeriesLabels(3), 2000, 1);
  EXPECT_EQ(over.code(), Status::Code::kResourceExhausted);
  EXPECT_NE(over.message().find("limit of 2"), std::string::npos);
  ASSERT_TRUE(app->Commit().ok());

  double ooo_before = TsdbMetrics::Get().out_of_order.Value();
  double dup_before = TsdbMetrics::Get().duplicates.Value();
  app = (*db)->NewAppender();
  EXPECT_EQ(app->Append(a, {}, 1000, 5).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(app->Append(a, {}, 2000, 5).code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(app->Append(a, {}, 3000, 5).ok());
  storage::SeriesRef bogus = 9999;
  EXPECT_EQ(app->Append(bogus, {}, 3000, 5).code(), Status::Code::kNotFound);
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(TsdbMetrics::Get().out_of_order.Value() - ooo_before, 1);
  EXPECT_EQ(TsdbMetrics::Get().duplicates.Value() - dup_before, 1);
  auto got = (*db)->Query({Matcher::Equal("instance", "host-1")}, 0, 10'000);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].samples.size(), 2u);
  EXPECT_EQ(got[0].samples[1].v, 5);
}

TEST(DBTest, InBatchChecksHoldBeforeAndAfterRefsStopAscending) {
  TempDir dir("inbatch");
  auto db = DB::Open(dir.path(), TestOptions());
  ASSERT_TRUE(db.ok());
  storage::SeriesRef a = 0, b = 0, c = 0;
  auto app = (*db)->NewAppender();
  ASSERT_TRUE(app->Append(a, SeriesLabels(1), 1000, 1).ok());
  ASSERT_TRUE(app->Append(b, SeriesLabels(2), 1000, 1).ok());
  ASSERT_TRUE(app->Append(c, SeriesLabels(3), 1000, 1).ok());
  ASSERT_TRUE(a < b && b < c);
  // Refs ascended so far; `a` again: a duplicate, then every later check uses the table.
  EXPECT_EQ(app->Append(a, {}, 1000, 2).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(app->Append(b, {}, 500, 2).code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(app->Append(c, {}, 2000, 3).ok());
  EXPECT_EQ(app->Append(c, {}, 2000, 4).code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(app->Append(a, {}, 3000, 5).ok());
  ASSERT_TRUE(app->Commit().ok());
  // A new batch ascends again: one sample per series, then a repeat out of order.
  app = (*db)->NewAppender();
  EXPECT_TRUE(app->Append(a, {}, 4000, 6).ok());
  EXPECT_TRUE(app->Append(c, {}, 4000, 6).ok());
  EXPECT_EQ(app->Append(a, {}, 3500, 7).code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(app->Append(b, {}, 4000, 6).ok());
  ASSERT_TRUE(app->Commit().ok());
  auto got = (*db)->Query({}, 0, 10'000);
  ASSERT_EQ(got.size(), 3u);
  std::map<std::string, std::vector<int64_t>> times;
  for (const auto& s : got) {
    for (const auto& sample : s.samples)
      times[std::string(s.labels.Get("instance"))].push_back(sample.t);
  }
  EXPECT_EQ(times["host-1"], (std::vector<int64_t>{1000, 3000, 4000}));
  EXPECT_EQ(times["host-2"], (std::vector<int64_t>{1000, 4000}));
  EXPECT_EQ(times["host-3"], (std::vector<int64_t>{1000, 2000, 4000}));
}

TEST(DBTest, RacingAppendersResolveAtCommitAndReplayAlike) {
  TempDir dir("race");
  {
    auto db = DB::Open(dir.path(), TestOptions());
    auto first = (*db)->NewAppender();
    auto second = (*db)->NewAppender();
    storage::SeriesRef r1 = 0, r2 = 0;
    // Both pass the append-time check; the later commit loses at apply time.
    ASSERT_TRUE(first->Append(r1, SeriesLabels(1), 1000, 1).ok());
    ASSERT_TRUE(second->Append(r2, SeriesLabels(1), 1000, 2).ok());
    ASSERT_TRUE(second->Append(r2, SeriesLabels(1), 2000, 2).ok());
    EXPECT_EQ(r1, r2);
    double ooo = TsdbMetrics::Get().out_of_order.Value();
    ASSERT_TRUE(second->Commit().ok());
    ASSERT_TRUE(first->Commit().ok());
    EXPECT_EQ(TsdbMetrics::Get().out_of_order.Value() - ooo, 1);
  }
  auto db = DB::Open(dir.path(), TestOptions());
  auto got = (*db)->Query({Matcher::Equal("instance", "host-1")}, 0, 10'000);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].samples.size(), 2u);
  EXPECT_EQ(got[0].samples[0].v, 2);  // the second appender's, as before the restart
  EXPECT_EQ(got[0].samples[1].t, 2000);
}

TEST(DBTest, RollbackWritesNothing) {
  TempDir dir("rollback");
  {
    auto db = DB::Open(dir.path(), TestOptions());
    auto app = (*db)->NewAppender();
    storage::SeriesRef ref = 0;
    ASSERT_TRUE(app->Append(ref, SeriesLabels(1), 1000, 1).ok());
    app->Rollback();
    EXPECT_TRUE((*db)->Query({Matcher::Equal("instance", "host-1")}, 0, 5000).empty());
  }
  auto db = DB::Open(dir.path(), TestOptions());
  EXPECT_EQ((*db)->replay_report().records, 0u);
}

TEST(DBTest, FlippedByteMidWalIsReportedAndLaterSegmentsReplay) {
  TempDir dir("flip");
  DBOptions o = TestOptions();
  o.wal_segment_size = 16 << 10;
  {
    auto db = DB::Open(dir.path(), o);
    Fill(**db, 50, 200, 0, 1000, [](int i, int k) { return k; });
  }
  auto segments = *wal::ListSegments(dir.path() + "/wal");
  ASSERT_GT(segments.size(), 4u);
  uint32_t victim = segments[2];
  std::string path = wal::SegmentPath(dir.path() + "/wal", victim);
  uint64_t offset = *wal::FileSize(path) / 2;
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x01);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(&c, 1);
  }
  double corruptions_before = TsdbMetrics::Get().wal_corruptions.Value();
  auto db = DB::Open(dir.path(), o);
  ASSERT_TRUE(db.ok());
  const auto& damage = (*db)->replay_report().damage;
  ASSERT_EQ(damage.size(), 1u);
  EXPECT_EQ(damage[0].at.segment, victim);
  EXPECT_FALSE(damage[0].torn_tail);
  // The reported offset is the start of the record holding the flipped byte.
  EXPECT_LE(damage[0].at.offset, offset);
  EXPECT_GT(damage[0].at.offset + 16 * 1024, offset);
  EXPECT_EQ(TsdbMetrics::Get().wal_corruptions.Value() - corruptions_before, 1);
  // The newest samples, in later segments, are all there.
  auto got = (*db)->Query({Matcher::Equal("instance", "host-7")}, 0, INT64_MAX);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].samples.back().t, 199'000);
  EXPECT_LT(got[0].samples.size(), 200u);  // the damaged region is gone...
  EXPECT_GT(got[0].samples.size(), 100u);  // ...and only that
}

TEST(DBTest, TornTailIsTruncatedOnOpen) {
  TempDir dir("torn");
  {
    auto db = DB::Open(dir.path(), TestOptions());
    Fill(**db, 10, 20, 0, 1000, [](int, int k) { return k; });
  }
  std::string seg = wal::SegmentPath(dir.path() + "/wal", 0);
  uint64_t size = *wal::FileSize(seg);
  ASSERT_EQ(::truncate(seg.c_str(), static_cast<off_t>(size - 5)), 0);
  {
    auto db = DB::Open(dir.path(), TestOptions());
    ASSERT_EQ((*db)->replay_report().damage.size(), 1u);
    EXPECT_TRUE((*db)->replay_report().damage[0].torn_tail);
    auto got = (*db)->Query({Matcher::Equal("instance", "host-3")}, 0, INT64_MAX);
    EXPECT_EQ(got[0].samples.size(), 19u);  // the last commit was torn
    Fill(**db, 10, 1, 100'000, 1000, [](int, int) { return 7; });
  }
  auto db = DB::Open(dir.path(), TestOptions());
  EXPECT_TRUE((*db)->replay_report().damage.empty());
  auto got = (*db)->Query({Matcher::Equal("instance", "host-3")}, 0, INT64_MAX);
  EXPECT_EQ(got[0].samples.size(), 20u);
}

TEST(DBTest, RetentionDeletesExactlyTheSegmentsItMay) {
  TempDir dir("retention");
  DBOptions o = TestOptions();
  o.wal_segment_size = 8 << 10;
  o.retention = std::chrono::milliseconds(100'000);
  auto db = DB::Open(dir.path(), o);
  ASSERT_TRUE(db.ok());
  auto consumer = (*db)->RegisterWalConsumer("remote-a");
  // 20 series for t = 0..299 s; a few of them stop at t = 50 s and go idle.
  std::vector<storage::SeriesRef> refs(20, 0);
  std::map<uint32_t, int64_t> seg_max;
  for (int k = 0; k < 300; ++k) {
    auto app = (*db)->NewAppender();
    for (int i = 0; i < 20; ++i) {
      if (i >= 17 && k > 50) continue;
      ASSERT_TRUE(app->Append(refs[i], SeriesLabels(i), k * 1000, k).ok());
    }
    ASSERT_TRUE(app->Commit().ok());
    seg_max[(*db)->WalEnd().segment] = k * 1000;  // a batch never spans segments
  }
  auto all = *wal::ListSegments((*db)->wal_dir());
  ASSERT_GE(all.size(), 6u);
  const int64_t cutoff = 299'000 - 100'000;
  std::vector<uint32_t> old;  // closed segments entirely before the cutoff
  for (uint32_t s : all) {
    if (s != all.back() && seg_max[s] < cutoff) old.push_back(s);
  }
  ASSERT_GE(old.size(), 3u);

  // The consumer has acknowledged nothing: no segment may go, though chunks may.
  auto r = (*db)->ApplyRetention();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->cutoff, cutoff);
  EXPECT_TRUE(r->segments_deleted.empty());
  EXPECT_GT(r->chunks_removed, 0u);
  EXPECT_EQ(r->series_removed, 3u);
  EXPECT_EQ(*wal::ListSegments((*db)->wal_dir()), all);

  // Acknowledge up to the middle of old[1]: only old[0] may go.
  consumer->SetAcknowledged({old[1], 100});
  r = (*db)->ApplyRetention();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->segments_deleted, (std::vector<uint32_t>{old[0]}));
  ASSERT_TRUE(r->checkpoint.has_value());
  EXPECT_EQ(*r->checkpoint, old[0]);

  // Acknowledge everything: all old segments go, the young and the active one stay.
  auto second = (*db)->RegisterWalConsumer("remote-b");
  consumer->SetAcknowledged((*db)->WalEnd());
  r = (*db)->ApplyRetention();
  EXPECT_TRUE(r->segments_deleted.empty()) << "remote-b has not acknowledged";
  second->SetAcknowledged((*db)->WalEnd());
  r = (*db)->ApplyRetention();
  std::vector<uint32_t> rest(old.begin() + 1, old.end());
  EXPECT_EQ(r->segments_deleted, rest);
  std::vector<uint32_t> kept;
  for (uint32_t s : all) {
    if (std::find(old.begin(), old.end(), s) == old.end()) kept.push_back(s);
  }
  EXPECT_EQ(*wal::ListSegments((*db)->wal_dir()), kept);
  auto cp = LatestCheckpoint((*db)->wal_dir());
  ASSERT_TRUE(cp.ok() && cp->has_value());
  EXPECT_EQ((*cp)->last_segment, old.back());
  EXPECT_EQ((*db)->FirstSegment(), kept.front());

  // A dropped consumer handle no longer holds anything back.
  second.reset();

  // Replay after retention: checkpoint + remaining segments rebuild the recent data.
  auto before = (*db)->Query({Matcher::Equal("job", "job1")}, cutoff, INT64_MAX);
  db->reset();
  auto reopened = DB::Open(dir.path(), o);
  ASSERT_TRUE(reopened.ok());
  EXPECT_TRUE((*reopened)->replay_report().damage.empty());
  auto after = (*reopened)->Query({Matcher::Equal("job", "job1")}, cutoff, INT64_MAX);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].labels, before[i].labels);
    EXPECT_EQ(after[i].samples.size(), before[i].samples.size());
    EXPECT_EQ(after[i].samples.back().t, 299'000);
  }
}

TEST(DBTest, OpenCleansUpAfterACrashDuringRetention) {
  TempDir dir("cleanup");
  DBOptions o = TestOptions();
  o.wal_segment_size = 4 << 10;
  o.retention = std::chrono::milliseconds(50'000);
  uint32_t checkpoint;
  {
    auto db = DB::Open(dir.path(), o);
    Fill(**db, 20, 200, 0, 1000, [](int, int k) { return k; });
    auto r = (*db)->ApplyRetention();
    ASSERT_TRUE(r.ok() && r->checkpoint.has_value());
    checkpoint = *r->checkpoint;
  }
  std::string wal = dir.path() + "/wal";
  // A crash between writing a checkpoint and deleting segments leaves both behind; one
  // while writing the next checkpoint leaves a temporary file.
  { std::ofstream(wal::SegmentPath(wal, checkpoint)) << "stale segment bytes"; }
  { std::ofstream(wal + "/" + CheckpointName(checkpoint + 1) + ".tmp") << "partial"; }
  auto db = DB::Open(dir.path(), o);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_TRUE((*db)->replay_report().damage.empty());
  EXPECT_FALSE(std::filesystem::exists(wal::SegmentPath(wal, checkpoint)));
  auto got = (*db)->Query({Matcher::Equal("instance", "host-3")}, 150'000, INT64_MAX);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].samples.size(), 50u);
}

TEST(DBTest, TailerAfterCheckpointResolvesEveryRef) {
  TempDir dir("tailer");
  DBOptions o = TestOptions();
  o.wal_segment_size = 4 << 10;
  o.retention = std::chrono::milliseconds(50'000);
  auto db = DB::Open(dir.path(), o);
  Fill(**db, 30, 200, 0, 1000, [](int, int k) { return k; });
  auto r = (*db)->ApplyRetention();  // no consumers: old segments go
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r->segments_deleted.empty());

  std::map<uint64_t, Labels> labels;
  auto cp = *LatestCheckpoint((*db)->wal_dir());
  ASSERT_TRUE(cp.has_value());
  std::vector<SeriesRecord> series;
  ASSERT_TRUE(ReadCheckpoint(cp->path, &series).ok());
  for (auto& s : series) labels[s.ref] = s.labels;
  wal::Tailer tailer((*db)->wal_dir(), {(*db)->FirstSegment(), 0});
  size_t samples = 0, unknown = 0;
  auto drain = [&] {
    for (;;) {
      auto rec = tailer.Next();
      ASSERT_TRUE(rec.ok());
      if (!rec->has_value()) return;
      if (PeekRecordType((*rec)->payload) == RecordType::kSeries) {
        std::vector<SeriesRecord> more;
        ASSERT_TRUE(DecodeSeries((*rec)->payload, &more).ok());
        for (auto& s : more) labels[s.ref] = s.labels;
      } else {
        std::vector<SampleRecord> batch;
        ASSERT_TRUE(DecodeSamples((*rec)->payload, &batch).ok());
        for (auto& s : batch) {
          ++samples;
          if (!labels.count(s.ref)) ++unknown;
        }
      }
    }
  };
  drain();
  EXPECT_GT(samples, 0u);
  EXPECT_EQ(unknown, 0u);
  // New data wakes a waiter and the tailer picks it up.
  wal::Position end = (*db)->WalEnd();
  std::thread writer([&] { Fill(**db, 31, 1, 500'000, 1000, [](int, int) { return 1; }); });
  EXPECT_TRUE((*db)->WaitForWal(end, std::chrono::seconds(10)));
  writer.join();
  size_t before = samples;
  drain();
  EXPECT_EQ(samples - before, 31u);
  EXPECT_EQ(unknown, 0u);
  EXPECT_FALSE((*db)->WaitForWal((*db)->WalEnd(), std::chrono::milliseconds(1)));
}

TEST(DBTest, BatchingWalWaiterWakesOnceEnoughIsWritten) {
  TempDir dir("walwait");
  auto db = DB::Open(dir.path(), TestOptions());
  ASSERT_TRUE(db.ok());
  Fill(**db, 10, 1, 0, 1000, [](int, int) { return 1; });
  // A commit below the threshold: the waiter sleeps its whole (short) wait, then sees it.
  wal::Position pos = (*db)->WalEnd();
  Fill(**db, 10, 1, 1000, 1000, [](int, int) { return 1; });
  EXPECT_TRUE((*db)->WaitForWal(pos, std::chrono::milliseconds(1), 1 << 20));
  // Small commits until the waiter, with a wait far longer than the test, is woken: the
  // commit that brings the WAL to min_bytes past its position wakes it.
  constexpr uint64_t kMinBytes = 16 << 10;
  pos = (*db)->WalEnd();
  std::atomic<bool> woken{false};
  std::thread waiter([&] {
    EXPECT_TRUE((*db)->WaitForWal(pos, std::chrono::minutes(5), kMinBytes));
    woken = true;
  });
  int64_t t = 2000;
  for (int i = 0; i < 100'000 && !woken; ++i, t += 1000) {
    Fill(**db, 10, 1, t, 1000, [](int, int) { return 1; });
  }
  waiter.join();
  EXPECT_TRUE(woken);
  const wal::Position end = (*db)->WalEnd();
  EXPECT_TRUE(end.segment > pos.segment || end.offset >= pos.offset + kMinBytes);
}

TEST(DBTest, QueryByMatchersAndTimeRange) {
  TempDir dir("query");
  auto db = DB::Open(dir.path(), TestOptions());
  Fill(**db, 30, 100, 0, 1000, [](int i, int k) { return i * 1000 + k; });
  using T = Matcher::Type;
  auto got = (*db)->Query({*Matcher::Make(T::kEqual, "__name__", "metric_3"),
                           *Matcher::Make(T::kRegexMatch, "job", "job0|job1")},
                          10'000, 19'999);
  // metric_3: instances 3, 13, 23 -> jobs 0, 1, 2; jobs 0|1 keep 3 and 13.
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].labels.Get("instance"), "host-13");
  EXPECT_EQ(got[1].labels.Get("instance"), "host-3");
  ASSERT_EQ(got[1].samples.size(), 10u);
  EXPECT_EQ(got[1].samples.front().t, 10'000);
  EXPECT_EQ(got[1].samples.front().v, 3010);
  EXPECT_TRUE((*db)->Query({Matcher::Equal("job", "job0")}, 200'000, 300'000).empty());
  auto series = (*db)->Series(
      {{Matcher::Equal("instance", "host-1")}, {Matcher::Equal("instance", "host-2")}}, 0, 1000);
  EXPECT_EQ(series.size(), 2u);
  EXPECT_EQ((*db)->LabelNames({}, 0, 0), (std::vector<std::string>{"__name__", "instance", "job"}));
  EXPECT_EQ((*db)->LabelValues("job", {}, 0, 0),
            (std::vector<std::string>{"job0", "job1", "job2"}));
  EXPECT_EQ((*db)->LabelValues("job", {{Matcher::Equal("instance", "host-4")}}, 0, INT64_MAX),
            (std::vector<std::string>{"job1"}));
}

TEST(DBTest, EveryBatchPolicyFsyncsEachCommit) {
  TempDir dir("fsync");
  DBOptions o = TestOptions();
  o.fsync_policy = FsyncPolicy::kEveryBatch;
  uint64_t before = TsdbMetrics::Get().wal_fsync_seconds.Count();
  auto db = DB::Open(dir.path(), o);
  Fill(**db, 5, 10, 0, 1000, [](int, int k) { return k; });
  EXPECT_EQ(TsdbMetrics::Get().wal_fsync_seconds.Count() - before, 10u);
}

}  // namespace
}  // namespace shardwise::tsdb
