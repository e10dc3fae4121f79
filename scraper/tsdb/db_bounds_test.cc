// What the head accepts, and that the WAL carries exactly that: out-of-bounds samples
// (older than head max time - 1 h), duplicates and out-of-order samples within one batch
// or across racing appenders are rejected, counted and never written; a future timestamp
// never moves the head's time range (and so retention) past the wall clock.
#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "scraper/tsdb/db.h"
#include "scraper/tsdb/metrics.h"
#include "scraper/tsdb/testutil.h"

namespace shardwise::tsdb {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

constexpr int64_t kNow = 1'780'000'000'000;  // the injected wall clock (2026)

DBOptions Options() {
  DBOptions o;
  o.retention_interval = 0ms;
  o.now_ms = [] { return kNow; };
  return o;
}

Labels L(const std::string& name, const std::string& instance) {
  return Labels{{"__name__", name}, {"instance", instance}};
}

// Every sample the WAL holds, as (ref, t, v).
std::vector<SampleRecord> WalSamples(const DB& db) {
  std::vector<SampleRecord> out;
  wal::Tailer tailer(db.wal_dir(), {db.FirstSegment(), 0});
  for (;;) {
    auto rec = tailer.Next();
    EXPECT_TRUE(rec.ok());
    if (!rec.ok() || !rec->has_value()) break;
    if (PeekRecordType((*rec)->payload) != RecordType::kSamples) continue;
    std::vector<SampleRecord> batch;
    EXPECT_TRUE(DecodeSamples((*rec)->payload, &batch).ok());
    out.insert(out.end(), batch.begin(), batch.end());
  }
  return out;
}

TEST(DBBoundsTest, OldSampleIsRejectedCountedAndNotWrittenWhileItsBatchIsKept) {
  TempDir dir("bounds");
  auto db = DB::Open(dir.path(), Options());
  ASSERT_TRUE(db.ok());
  {
    auto app = (*db)->NewAppender();
    storage::SeriesRef ref = 0;
    ASSERT_TRUE(app->Append(ref, L("a", "1"), kNow, 1).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  auto& m = TsdbMetrics::Get();
  const double oob_before = m.out_of_bound.Value();
  auto app = (*db)->NewAppender();
  std::vector<storage::SeriesRef> refs(4, 0);
  ASSERT_TRUE(app->Append(refs[0], L("b", "1"), kNow + 1000, 1).ok());
  // 2001 and 1969 (negative): far out of bounds, for a new series and an existing one.
  Status old = app->Append(refs[1], L("c", "1"), 1'000'000'000'000, 2);
  EXPECT_EQ(storage::RejectionOf(old), storage::Rejection::kOutOfBounds) << old.ToString();
  Status negative = app->Append(refs[2], L("a", "1"), -1000, 3);
  EXPECT_EQ(storage::RejectionOf(negative), storage::Rejection::kOutOfBounds);
  // Just inside the window (head max time - 1 h) is fine.
  ASSERT_TRUE(app->Append(refs[3], L("d", "1"), kNow - 3'599'000, 4).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(m.out_of_bound.Value() - oob_before, 2);

  // The WAL holds the good samples only, and no series was created for the old one.
  std::vector<SampleRecord> written = WalSamples(**db);
  ASSERT_EQ(written.size(), 3u);
  for (const auto& s : written) EXPECT_GE(s.t, kNow - 3'600'000);
  EXPECT_TRUE((*db)->Query({Matcher::Equal("__name__", "c")}, INT64_MIN, INT64_MAX).empty());
  EXPECT_EQ((*db)->head().Stats().series, 3u);
}

TEST(DBBoundsTest, AnEmptyHeadTakesItsFirstSampleAsItsTime) {
  TempDir dir("bounds-empty");
  auto db = DB::Open(dir.path(), Options());
  auto app = (*db)->NewAppender();
  storage::SeriesRef a = 0, b = 0;
  ASSERT_TRUE(app->Append(a, L("a", "1"), kNow, 1).ok());
  // Same batch: the first sample fixed the range, as Prometheus's head does.
  EXPECT_EQ(storage::RejectionOf(app->Append(b, L("b", "1"), kNow - 2 * 3'600'000, 1)),
            storage::Rejection::kOutOfBounds);
  ASSERT_TRUE(app->Commit().ok());
}

TEST(DBBoundsTest, DuplicatesAndOutOfOrderWithinABatchAreNotWritten) {
  TempDir dir("bounds-dup");
  auto db = DB::Open(dir.path(), Options());
  auto& m = TsdbMetrics::Get();
  const double dup_before = m.duplicates.Value();
  const double ooo_before = m.out_of_order.Value();
  auto app = (*db)->NewAppender();
  storage::SeriesRef r1 = 0, r2 = 0, r3 = 0;
  ASSERT_TRUE(app->Append(r1, Labels{{"__name__", "x"}, {"a", "1"}, {"b", "2"}}, kNow, 1).ok());
  // The same series, its labels given in another order, another value.
  Status dup =
      app->Append(r2, Labels::FromUnsorted({{"b", "2"}, {"a", "1"}, {"__name__", "x"}}), kNow, 2);
  EXPECT_EQ(storage::RejectionOf(dup), storage::Rejection::kDuplicate) << dup.ToString();
  EXPECT_EQ(r2, r1);
  Status late = app->Append(r3, Labels{{"__name__", "x"}, {"a", "1"}, {"b", "2"}}, kNow - 5, 3);
  EXPECT_EQ(storage::RejectionOf(late), storage::Rejection::kOutOfOrder);
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(m.duplicates.Value() - dup_before, 1);
  EXPECT_EQ(m.out_of_order.Value() - ooo_before, 1);
  std::vector<SampleRecord> written = WalSamples(**db);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].v, 1);
}

// Appenders reuse the buffers of finished ones: what one batch saw must not leak into the
// next, at any batch size (the in-batch table grows past its first size here).
TEST(DBBoundsTest, RecycledAppendersCheckOnlyTheirOwnBatch) {
  TempDir dir("bounds-recycle");
  auto db = DB::Open(dir.path(), Options());
  constexpr int kSeries = 3000;
  std::vector<storage::SeriesRef> refs(kSeries, 0);
  for (int batch = 0; batch < 3; ++batch) {
    auto app = (*db)->NewAppender();
    const int64_t t = kNow - 10'000 + batch * 1000;
    for (int i = 0; i < kSeries; ++i) {
      ASSERT_TRUE(app->Append(refs[i], L("m", std::to_string(i)), t, i).ok()) << batch << " " << i;
    }
    for (int i = 0; i < kSeries; i += 100) {  // repeats within the batch are refused
      Status dup = app->Append(refs[i], {}, t, -1);
      EXPECT_EQ(storage::RejectionOf(dup), storage::Rejection::kDuplicate) << i;
      Status late = app->Append(refs[i], {}, t - 1, -1);
      EXPECT_EQ(storage::RejectionOf(late), storage::Rejection::kOutOfOrder) << i;
    }
    if (batch == 1) {
      app->Rollback();  // a rolled-back batch leaves nothing behind either
    } else {
      ASSERT_TRUE(app->Commit().ok());
    }
  }
  std::vector<SampleRecord> written = WalSamples(**db);
  ASSERT_EQ(written.size(), 2u * kSeries);
  for (const auto& s : written) EXPECT_GE(s.v, 0);
}

TEST(DBBoundsTest, RacingAppendersWriteOnlyWhatTheHeadAccepts) {
  TempDir dir("bounds-race");
  auto db = DB::Open(dir.path(), Options());
  auto first = (*db)->NewAppender();
  auto second = (*db)->NewAppender();
  storage::SeriesRef r1 = 0, r2 = 0;
  ASSERT_TRUE(first->Append(r1, L("a", "1"), kNow, 1).ok());
  ASSERT_TRUE(second->Append(r2, L("a", "1"), kNow, 2).ok());
  ASSERT_TRUE(second->Commit().ok());
  ASSERT_TRUE(first->Commit().ok());  // loses: its sample is a duplicate now
  std::vector<SampleRecord> written = WalSamples(**db);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].v, 2);
}

TEST(DBBoundsTest, AFutureTimestampMovesNeitherTheHeadRangeNorRetention) {
  TempDir dir("bounds-future");
  DBOptions o = Options();
  o.retention = 2h;
  auto db = DB::Open(dir.path(), o);
  {
    auto app = (*db)->NewAppender();
    storage::SeriesRef a = 0, b = 0;
    ASSERT_TRUE(app->Append(a, L("now", "1"), kNow, 1).ok());
    // honor_timestamps with a target whose clock is ten years ahead: stored (as in
    // Prometheus), but the head's max time stops at now + the grace.
    ASSERT_TRUE(app->Append(b, L("future", "1"), kNow + 10 * 365 * 86'400'000LL, 1).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  EXPECT_EQ((*db)->head().Stats().max_time, kNow + o.future_grace.count());
  // Samples at the wall clock are still in bounds...
  {
    auto app = (*db)->NewAppender();
    storage::SeriesRef a = 0;
    ASSERT_TRUE(app->Append(a, L("now", "1"), kNow + 15'000, 2).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  // ...and retention (max time - 2 h) keeps them.
  auto r = (*db)->ApplyRetention();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cutoff, kNow + o.future_grace.count() - 2 * 3'600'000);
  auto got = (*db)->Query({Matcher::Equal("__name__", "now")}, INT64_MIN, INT64_MAX);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].samples.size(), 2u);
}

TEST(DBBoundsTest, SeriesCreatedIsCounted) {
  TempDir dir("bounds-created");
  auto db = DB::Open(dir.path(), Options());
  auto& m = TsdbMetrics::Get();
  const double before = m.series_created.Value();
  auto app = (*db)->NewAppender();
  for (int i = 0; i < 5; ++i) {
    storage::SeriesRef ref = 0;
    ASSERT_TRUE(app->Append(ref, L("s", std::to_string(i)), kNow, 1).ok());
  }
  storage::SeriesRef again = 0;
  EXPECT_FALSE(app->Append(again, L("s", "0"), kNow, 1).ok());  // existing: not created
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(m.series_created.Value() - before, 5);
}

}  // namespace
}  // namespace shardwise::tsdb
