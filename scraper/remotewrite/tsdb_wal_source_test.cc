#include "scraper/remotewrite/tsdb_wal_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <thread>

#include "common/testing/test_util.h"
#include "scraper/remotewrite/queue_manager.h"
#include "scraper/remotewrite/test_receiver.h"
#include "scraper/storage/appender.h"
#include "scraper/storage/label_pair_table.h"
#include "scraper/tsdb/metrics.h"
#include "scraper/tsdb/testutil.h"

namespace shardwise::remotewrite {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::Collector;
using testing::FakeTransport;
using testing::ReceivedSample;

constexpr int kSeries = 40;

Labels SeriesLabels(int i) {
  return Labels{{"__name__", "rw_test"}, {"instance", "host-" + std::to_string(i)}};
}
std::string SeriesString(int i) {
  return "{__name__=\"rw_test\", instance=\"host-" + std::to_string(i) + "\"}";
}

std::vector<ReceivedSample> SortedSamples(std::vector<ReceivedSample> v) {
  std::sort(v.begin(), v.end());
  return v;
}

class TsdbWalSourceTest : public ::testing::Test {
 protected:
  void SetUp() override { OpenDb(); }

  void OpenDb() {
    tsdb::DBOptions o;
    o.wal_segment_size = 1024;  // many segments
    o.retention = 10s;
    o.retention_interval = 0ms;  // the test runs retention itself
    auto db = tsdb::DB::Open(dir_.path() + "/data", o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    source_ = std::make_unique<TsdbWalSource>(*db_);
  }

  // One scrape of every series at t_ms; the value encodes series and time.
  std::vector<ReceivedSample> Scrape(int64_t t_ms) {
    auto app = db_->NewAppender();
    std::vector<ReceivedSample> want;
    for (int i = 0; i < kSeries; ++i) {
      storage::SeriesRef ref = 0;
      double v = i * 1000.0 + static_cast<double>(t_ms) / 1000;
      EXPECT_TRUE(app->Append(ref, SeriesLabels(i), t_ms, v).ok());
      want.push_back({SeriesString(i), t_ms, v});
    }
    EXPECT_TRUE(app->Commit().ok());
    return want;
  }

  QueueOptions Options() {
    QueueOptions o;
    o.endpoint.url = "http://unused/";
    o.endpoint.name = "tsdb";
    o.endpoint.queue.min_shards = 2;
    o.endpoint.queue.max_shards = 2;
    o.endpoint.queue.max_samples_per_send = 50;
    o.endpoint.queue.capacity = 200;
    o.endpoint.queue.batch_send_deadline = 20ms;
    o.endpoint.queue.min_backoff = 5ms;
    o.endpoint.queue.max_backoff = 20ms;
    o.cursor_dir = dir_.path();
    o.cursor_sync_interval = 0ms;
    o.wal_poll_interval = 20ms;
    return o;
  }

  static std::vector<ReceivedSample> Sorted(std::vector<ReceivedSample> v) {
    std::sort(v.begin(), v.end());
    return v;
  }

  tsdb::testing::TempDir dir_{"remotewrite"};
  std::unique_ptr<tsdb::DB> db_;
  std::unique_ptr<TsdbWalSource> source_;
};

TEST_F(TsdbWalSourceTest, SendsEveryCommittedSampleFromTheWal) {
  Collector got;
  std::vector<ReceivedSample> want;
  for (int s = 1; s <= 10; ++s) {
    for (auto& x : Scrape(s * 15000)) want.push_back(x);
  }
  QueueManager q(Options(), *source_, std::make_unique<FakeTransport>(&got));
  ASSERT_TRUE(q.Start().ok());
  for (int s = 11; s <= 20; ++s) {
    for (auto& x : Scrape(s * 15000)) want.push_back(x);
  }
  // A staleness marker must arrive bit for bit.
  {
    auto app = db_->NewAppender();
    storage::SeriesRef ref = 0;
    ASSERT_TRUE(app->Append(ref, SeriesLabels(0), 21 * 15000, storage::StaleNaN()).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  ASSERT_TRUE(q.Flush(Clock::now() + 20s).ok());
  std::vector<ReceivedSample> delivered = got.Samples();
  auto stale = std::find_if(delivered.begin(), delivered.end(),
                            [](const ReceivedSample& s) { return s.t_ms == 21 * 15000; });
  ASSERT_NE(stale, delivered.end());
  EXPECT_TRUE(storage::IsStaleNaN(stale->value));
  delivered.erase(stale);
  EXPECT_EQ(Sorted(delivered), Sorted(want));
  EXPECT_GT(db_->WalEnd().segment, 2u);  // the test did cross segments
}

TEST_F(TsdbWalSourceTest, RetentionKeepsUnsentSegmentsAndRestartUsesTheCheckpoint) {
  Collector first;
  std::atomic<bool> receiver_up{false};
  auto policy = [&](const prometheus::WriteRequest&, int) -> SendAttempt {
    if (receiver_up) return {{SendOutcome::kDelivered, {}}, 204, ""};
    return {{SendOutcome::kRetry, {}}, 503, "down"};
  };
  std::vector<ReceivedSample> want;
  {
    QueueManager q(Options(), *source_, std::make_unique<FakeTransport>(&first, policy));
    ASSERT_TRUE(q.Start().ok());
    for (int s = 1; s <= 40; ++s) {
      for (auto& x : Scrape(s * 15000)) want.push_back(x);
    }
    // Everything but the last 10 s is past retention, but nothing was delivered.
    auto r = db_->ApplyRetention();
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->segments_deleted.empty());
    receiver_up = true;
    ASSERT_TRUE(q.Flush(Clock::now() + 20s).ok());
    q.Stop();
  }
  EXPECT_EQ(Sorted(first.Samples()), Sorted(want));
  auto r = db_->ApplyRetention();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->segments_deleted.empty());

  // Restart the DB and the queue: the series come from the checkpoint, and only the new
  // scrapes are sent.
  db_.reset();
  OpenDb();
  Collector second;
  std::vector<ReceivedSample> want2;
  for (int s = 41; s <= 45; ++s) {
    for (auto& x : Scrape(s * 15000)) want2.push_back(x);
  }
  QueueManager q(Options(), *source_, std::make_unique<FakeTransport>(&second));
  ASSERT_TRUE(q.Start().ok());
  ASSERT_TRUE(q.Flush(Clock::now() + 20s).ok());
  EXPECT_EQ(Sorted(second.Samples()), Sorted(want2));
  EXPECT_EQ(q.Stats().samples_dropped, 0u);
}

TEST_F(TsdbWalSourceTest, SeriesRetentionRemovesLeaveTheQueueToo) {
  Collector got;
  QueueManager q(Options(), *source_, std::make_unique<FakeTransport>(&got));
  ASSERT_TRUE(q.Start().ok());
  std::vector<ReceivedSample> want = Scrape(15'000);
  // Only the even series go on; the odd ones go idle past retention (10 s).
  for (int s = 2; s <= 5; ++s) {
    auto app = db_->NewAppender();
    for (int i = 0; i < kSeries; i += 2) {
      storage::SeriesRef ref = 0;
      const double v = i + s;
      ASSERT_TRUE(app->Append(ref, SeriesLabels(i), s * 15'000, v).ok());
      want.push_back({SeriesString(i), s * 15'000, v});
    }
    ASSERT_TRUE(app->Commit().ok());
  }
  auto r = db_->ApplyRetention();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->series_removed, static_cast<uint64_t>(kSeries / 2));
  ASSERT_TRUE(q.Flush(Clock::now() + 20s).ok());
  EXPECT_EQ(Sorted(got.Samples()), Sorted(want));  // removed after their samples went out
  EXPECT_EQ(q.Stats().series, static_cast<uint64_t>(kSeries / 2));
  q.Stop();
}

TEST_F(TsdbWalSourceTest, FlushCompletesWhenTheWalEndsInAnEmptySegment) {
  Collector got;
  std::vector<ReceivedSample> want;
  for (int s = 1; s <= 3; ++s) {
    for (auto& x : Scrape(s * 15000)) want.push_back(x);
  }
  db_.reset();
  OpenDb();  // starts a fresh segment that stays empty
  QueueManager q(Options(), *source_, std::make_unique<FakeTransport>(&got));
  ASSERT_TRUE(q.Start().ok());
  ASSERT_TRUE(q.Flush(Clock::now() + 10s).ok());
  EXPECT_EQ(Sorted(got.Samples()), Sorted(want));
}

// A receiver down (503) while the WAL passes its size cap, then back: scraping never
// waits, the oldest unsent segments are dropped and counted, newer samples all arrive,
// with labels of series defined in dropped segments taken from the checkpoint.
TEST(TsdbWalSourceCapTest, DeadReceiverPastTheCapThenBack) {
  tsdb::testing::TempDir dir("remotewrite_cap");
  tsdb::DBOptions o;
  o.wal_segment_size = 2048;
  o.max_wal_bytes = 8 << 10;
  o.retention = 24h;
  o.retention_interval = 0ms;  // only the size-cap check runs, after each segment cut
  auto opened = tsdb::DB::Open(dir.path() + "/data", o);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<tsdb::DB> db = std::move(*opened);
  TsdbWalSource source(*db);
  auto& tsdb_metrics = tsdb::TsdbMetrics::Get();
  const double dropped_before = tsdb_metrics.wal_segments_dropped_unacknowledged.Value();

  // Series "gen-<g>" is created at round 10*g and scraped from then on, so most series are
  // defined in segments the cap will delete while their later samples survive.
  auto scrape = [&](int round, std::vector<ReceivedSample>* want) {
    auto app = db->NewAppender();
    for (int g = 0; g <= round / 10; ++g) {
      storage::SeriesRef ref = 0;
      Labels labels{{"__name__", "cap_test"}, {"gen", std::to_string(g)}};
      double v = g * 1e6 + round;
      ASSERT_TRUE(app->Append(ref, labels, round * 15000, v).ok());
      want->push_back(
          {"{__name__=\"cap_test\", gen=\"" + std::to_string(g) + "\"}", round * 15000, v});
    }
    ASSERT_TRUE(app->Commit().ok());
  };

  Collector got;
  std::atomic<bool> receiver_up{false};
  auto policy = [&](const prometheus::WriteRequest&, int) -> SendAttempt {
    if (receiver_up) return {{SendOutcome::kDelivered, {}}, 204, ""};
    return {{SendOutcome::kRetry, {}}, 503, "down"};
  };
  QueueOptions qo;
  qo.endpoint.url = "http://unused/";
  qo.endpoint.name = "cap";
  qo.endpoint.queue.min_shards = 1;
  qo.endpoint.queue.max_shards = 1;
  qo.endpoint.queue.max_samples_per_send = 20;
  qo.endpoint.queue.capacity = 40;
  qo.endpoint.queue.batch_send_deadline = 10ms;
  qo.endpoint.queue.min_backoff = 5ms;
  qo.endpoint.queue.max_backoff = 20ms;
  qo.cursor_dir = dir.path();
  qo.cursor_sync_interval = 0ms;
  qo.wal_poll_interval = 20ms;
  QueueManager q(qo, source, std::make_unique<FakeTransport>(&got, policy));
  ASSERT_TRUE(q.Start().ok());

  // The outage: scraping goes on (each commit returns; nothing waits on the queue) until
  // the cap has dropped unsent segments, bounded in rounds and time.
  std::vector<ReceivedSample> old_samples;
  const auto deadline = Clock::now() + 20s;
  int round = 0;
  while (tsdb_metrics.wal_segments_dropped_unacknowledged.Value() < dropped_before + 3 &&
         Clock::now() < deadline && round < 2000) {
    scrape(round++, &old_samples);
  }
  ASSERT_GE(tsdb_metrics.wal_segments_dropped_unacknowledged.Value(), dropped_before + 3);
  EXPECT_GT(db->FirstSegment(), 2u);
  EXPECT_EQ(got.size(), 0u);

  // Back up: the queue catches up with what is left, and everything scraped from then on
  // arrives. (The cap here is a few scrapes: each is flushed so that it stays the cap
  // that is being tested, not a reader that falls behind again.)
  receiver_up = true;
  ASSERT_TRUE(q.Flush(Clock::now() + 20s).ok());
  std::vector<ReceivedSample> new_samples;
  for (int i = 0; i < 10; ++i) {
    scrape(round++, &new_samples);
    ASSERT_TRUE(q.Flush(Clock::now() + 20s).ok());
  }

  std::vector<ReceivedSample> delivered = SortedSamples(got.Samples());
  for (const auto& s : SortedSamples(new_samples)) {
    EXPECT_TRUE(std::binary_search(delivered.begin(), delivered.end(), s))
        << s.series << " @" << s.t_ms;
  }
  // Of the outage's samples, the dropped segments' are missing and counted; nothing
  // arrived that was not scraped, and no sample lacked its series' labels.
  std::vector<ReceivedSample> all = old_samples;
  all.insert(all.end(), new_samples.begin(), new_samples.end());
  all = SortedSamples(all);
  for (const auto& s : delivered) {
    EXPECT_TRUE(std::binary_search(all.begin(), all.end(), s)) << s.series << " @" << s.t_ms;
  }
  EXPECT_LT(delivered.size(), all.size());
  QueueStats stats = q.Stats();
  EXPECT_GT(stats.wal_segments_skipped, 0u);
  EXPECT_EQ(stats.samples_dropped, 0u) << "a sample's series was unknown";
  EXPECT_EQ(stats.samples_failed, 0u);
  q.Stop();
}

// Remote write carries what the head accepted, nothing else: one sample from 2001 and a
// duplicate (same series, labels in another order, another value) in a scrape are
// rejected, and the other samples of that scrape are all delivered.
TEST_F(TsdbWalSourceTest, RejectedSamplesAreNotForwardedAndTheirBatchIs) {
  Collector got;
  QueueManager q(Options(), *source_, std::make_unique<FakeTransport>(&got));
  ASSERT_TRUE(q.Start().ok());
  const int64_t t0 = 1'780'000'000'000;
  std::vector<ReceivedSample> want = Scrape(t0);
  auto app = db_->NewAppender();
  for (int i = 0; i < kSeries; ++i) {
    storage::SeriesRef ref = 0;
    ASSERT_TRUE(app->Append(ref, SeriesLabels(i), t0 + 15'000, i).ok());
    want.push_back({SeriesString(i), t0 + 15'000, static_cast<double>(i)});
    if (i == 7) {
      storage::SeriesRef old = 0, dup = 0;
      Status st = app->Append(old, Labels{{"__name__", "rw_old"}}, 1'000'000'000'000, 1);
      EXPECT_EQ(storage::RejectionOf(st), storage::Rejection::kOutOfBounds);
      st = app->Append(dup,
                       Labels::FromUnsorted(
                           {{"instance", "host-" + std::to_string(i)}, {"__name__", "rw_test"}}),
                       t0 + 15'000, 99);
      EXPECT_EQ(storage::RejectionOf(st), storage::Rejection::kDuplicate);
    }
  }
  ASSERT_TRUE(app->Commit().ok());
  ASSERT_TRUE(q.Flush(Clock::now() + 10s).ok());
  EXPECT_EQ(SortedSamples(got.Samples()), SortedSamples(want));
  q.Stop();
}

// The head and remote write hold the same interned label pairs (one copy per process).
// In an outage the queue lags while retention drops series from the head; their pairs
// live on for the queue, which sends them with the right labels once the receiver is
// back, and go when the queue has passed their removal. With the DB and the queue gone,
// the process's table is back where it was.
TEST_F(TsdbWalSourceTest, SeriesTheHeadDroppedKeepTheirLabelsUntilTheQueueSentThem) {
  const storage::LabelPairTable& pairs = *storage::LabelPairTable::Process();
  const size_t baseline = pairs.size();
  Collector got;
  std::atomic<bool> down{true};
  auto policy = [&](const prometheus::WriteRequest&, int) -> SendAttempt {
    if (down) return {{SendOutcome::kRetry, {}}, 503, "down"};
    return {{SendOutcome::kDelivered, {}}, 204, ""};
  };
  auto q = std::make_unique<QueueManager>(Options(), *source_,
                                          std::make_unique<FakeTransport>(&got, policy));
  ASSERT_TRUE(q->Start().ok());
  std::vector<ReceivedSample> want = Scrape(15'000);
  // Only the even series go on; the odd ones go idle past retention (10 s).
  for (int s = 2; s <= 5; ++s) {
    auto app = db_->NewAppender();
    for (int i = 0; i < kSeries; i += 2) {
      storage::SeriesRef ref = 0;
      ASSERT_TRUE(app->Append(ref, SeriesLabels(i), s * 15'000, i + s).ok());
      want.push_back({SeriesString(i), s * 15'000, static_cast<double>(i + s)});
    }
    ASSERT_TRUE(app->Commit().ok());
  }
  // One pair per series (instance) and the shared __name__.
  EXPECT_EQ(pairs.size(), baseline + kSeries + 1);
  auto r = db_->ApplyRetention();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->series_removed, static_cast<uint64_t>(kSeries / 2));
  EXPECT_EQ(db_->head().Stats().label_pairs, static_cast<uint64_t>(kSeries / 2 + 1));
  // The queue read everything (it waits on nothing but the receiver) and still holds the
  // dropped series' pairs: nothing has been sent yet.
  ASSERT_TRUE(shardwise::testing::WaitFor([&] { return q->Stats().samples_in == want.size(); }));
  EXPECT_EQ(pairs.size(), baseline + kSeries + 1);
  EXPECT_NE(pairs.Find("instance", "host-1"), storage::LabelPairTable::kNone);
  EXPECT_EQ(got.size(), 0u);

  down = false;
  ASSERT_TRUE(q->Flush(Clock::now() + 20s).ok());
  EXPECT_EQ(Sorted(got.Samples()), Sorted(want));
  // Past their removal and sent: the dropped series' pairs go.
  EXPECT_TRUE(shardwise::testing::WaitFor([&] {
    return pairs.size() == baseline + kSeries / 2 + 1;
  })) << pairs.size() - baseline;
  EXPECT_EQ(pairs.Find("instance", "host-1"), storage::LabelPairTable::kNone);
  q.reset();
  source_.reset();
  db_.reset();
  EXPECT_EQ(pairs.size(), baseline);
}

// The head creates and drops series (taking and releasing pairs) while the queue encodes
// others from the same table without a lock; run under TSan by hack/sanitize.sh.
TEST_F(TsdbWalSourceTest, HeadChurnWhileTheQueueEncodes) {
  Collector got;
  QueueOptions o = Options();
  o.external_labels = Labels{{"cluster", "eu"}};  // pairs remote write alone holds
  QueueManager q(o, *source_, std::make_unique<FakeTransport>(&got));
  ASSERT_TRUE(q.Start().ok());
  size_t want = 0;
  for (int s = 1; s <= 30; ++s) {
    auto app = db_->NewAppender();
    for (int i = 0; i < kSeries; ++i) {
      // A new set of series every 5 scrapes: the head keeps adding pairs, and retention
      // (10 s) drops the previous set's.
      Labels l{{"__name__", "churn"}, {"gen", std::to_string(s / 5)}, {"i", std::to_string(i)}};
      storage::SeriesRef ref = 0;
      ASSERT_TRUE(app->Append(ref, l, s * 15'000, s).ok());
      ++want;
    }
    ASSERT_TRUE(app->Commit().ok());
    if (s % 5 == 0) {
      ASSERT_TRUE(db_->ApplyRetention().ok());
    }
  }
  ASSERT_TRUE(q.Flush(Clock::now() + 20s).ok());
  std::vector<ReceivedSample> delivered = got.Samples();
  ASSERT_EQ(delivered.size(), want);
  for (const ReceivedSample& r : delivered) {
    const int s = static_cast<int>(r.t_ms / 15'000);
    EXPECT_NE(r.series.find("gen=\"" + std::to_string(s / 5) + "\""), std::string::npos)
        << r.series;
    EXPECT_NE(r.series.find("cluster=\"eu\""), std::string::npos) << r.series;
  }
  q.Stop();
}

}  // namespace
}  // namespace shardwise::remotewrite
