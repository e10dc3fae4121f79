#include "scraper/remotewrite/queue_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "common/relabel/parse.h"
#include "common/testing/test_util.h"
#include "scraper/remotewrite/cursor.h"
#include "scraper/remotewrite/memory_wal.h"
#include "scraper/remotewrite/test_receiver.h"

namespace shardwise::remotewrite {
namespace {

using namespace std::chrono_literals;
using testing::Collector;
using testing::FakeTransport;
using testing::ReceivedSample;
using Clock = std::chrono::steady_clock;

// Polls `cond` until it holds or `timeout` passes.
template <typename Fn>
bool Eventually(Fn cond, std::chrono::milliseconds timeout = 10s) {
  auto deadline = Clock::now() + timeout;
  while (!cond()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

class QueueManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("rw-queue-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  QueueOptions Options(int shards = 2) {
    QueueOptions o;
    o.endpoint.url = "http://unused/";
    o.endpoint.name = "test";
    o.endpoint.queue.min_shards = shards;
    o.endpoint.queue.max_shards = shards;
    o.endpoint.queue.max_samples_per_send = 100;
    o.endpoint.queue.capacity = 500;
    o.endpoint.queue.batch_send_deadline = 20ms;
    o.endpoint.queue.min_backoff = 5ms;
    o.endpoint.queue.max_backoff = 20ms;
    o.cursor_dir = dir_.string();
    o.cursor_sync_interval = 0ms;
    o.wal_poll_interval = 20ms;
    return o;
  }

  // Series 1..n named m{i="<ref>"}.
  void DefineSeries(int n) {
    std::vector<WalSeries> series;
    for (int i = 1; i <= n; ++i) {
      series.push_back(
          {static_cast<uint64_t>(i), Labels{{"__name__", "m"}, {"i", std::to_string(i)}}});
    }
    wal_.AppendSeries(std::move(series));
  }
  // One record with one sample per series, at t = step * 1000, value = ref * step.
  std::vector<ReceivedSample> AppendStep(int n, int step, const std::string& extra = "") {
    std::vector<WalSample> samples;
    std::vector<ReceivedSample> expected;
    for (int i = 1; i <= n; ++i) {
      samples.push_back({static_cast<uint64_t>(i), step * 1000LL, double(i) * step});
      expected.push_back({"{__name__=\"m\", i=\"" + std::to_string(i) + "\"" + extra + "}",
                          step * 1000LL, double(i) * step});
    }
    wal_.AppendSamples(std::move(samples));
    return expected;
  }

  static std::vector<ReceivedSample> Sorted(std::vector<ReceivedSample> v) {
    std::sort(v.begin(), v.end());
    return v;
  }

  std::filesystem::path dir_;
  MemoryWal wal_{8};
};

TEST_F(QueueManagerTest, DeliversEverySampleInOrderWithExternalLabelsAndRelabeling) {
  Collector got;
  QueueOptions o = Options(3);
  o.external_labels = Labels{{"cluster", "c1"}, {"i", "never-wins"}};
  auto rules = relabel::ParseYaml("[{source_labels: [i], regex: '13', action: drop}]");
  ASSERT_TRUE(rules.ok());
  o.endpoint.write_relabel_configs = *relabel::Relabeler::Compile(*rules);
  QueueManager q(o, wal_, std::make_unique<FakeTransport>(&got));

  DefineSeries(50);
  std::vector<ReceivedSample> expected;
  for (int step = 1; step <= 10; ++step) {
    for (auto& s : AppendStep(50, step)) expected.push_back(s);
  }
  ASSERT_TRUE(q.Start().ok());
  for (int step = 11; step <= 20; ++step) {  // appended while the queue runs
    for (auto& s : AppendStep(50, step)) expected.push_back(s);
  }
  ASSERT_TRUE(q.Flush(Clock::now() + 10s).ok());

  std::vector<ReceivedSample> want;
  for (auto s : expected) {
    if (s.series.find("i=\"13\"") != std::string::npos) continue;
    s.series.insert(s.series.find(", i="), ", cluster=\"c1\"");
    want.push_back(s);
  }
  std::vector<ReceivedSample> delivered = got.Samples();
  EXPECT_EQ(Sorted(delivered), Sorted(want));
  // Per-series order survives sharding and batching.
  std::map<std::string, int64_t> last;
  for (const auto& s : delivered) {
    EXPECT_GT(s.t_ms, last[s.series]) << s.series;
    last[s.series] = s.t_ms;
  }
  QueueStats st = q.Stats();
  EXPECT_EQ(st.samples_in, 1000u);
  EXPECT_EQ(st.samples_sent, 980u);
  EXPECT_EQ(st.samples_dropped, 20u);
  EXPECT_EQ(st.pending_samples, 0);
  EXPECT_EQ(st.highest_sent_timestamp_ms, 20000);
  EXPECT_EQ(st.cursor, wal_.End());
  EXPECT_EQ(wal_.Acknowledged("remote_write/test"), wal_.End());

  // Tailing: new data goes out within the batch deadline, without a Flush.
  AppendStep(50, 21);
  EXPECT_TRUE(got.WaitFor(980 + 49, 10s));
  q.Stop();
}

TEST_F(QueueManagerTest, RemovedSeriesAreForgottenAfterTheirSamplesAreSent) {
  Collector got;
  QueueManager q(Options(2), wal_, std::make_unique<FakeTransport>(&got));
  DefineSeries(50);
  std::vector<ReceivedSample> want = AppendStep(50, 1);
  wal_.AppendRemoved({2, 4, 6, 999});  // 999: never defined
  // A removed series' ref that shows up again anyway is unknown now: dropped, counted.
  wal_.AppendSamples({{2, 2000, 1}, {3, 2000, 7}});
  want.push_back({"{__name__=\"m\", i=\"3\"}", 2000, 7});
  ASSERT_TRUE(q.Start().ok());
  ASSERT_TRUE(q.Flush(Clock::now() + 10s).ok());
  EXPECT_EQ(Sorted(got.Samples()), Sorted(want));
  QueueStats st = q.Stats();
  EXPECT_EQ(st.series, 47u);
  EXPECT_EQ(st.samples_dropped, 1u);
  q.Stop();
}

// A removed series' labels are freed once its samples are out, even while the queue never
// goes idle (here: a later batch is retried and another waits behind it).
TEST_F(QueueManagerTest, RemovedSeriesLabelsAreFreedWhileTheQueueStaysBusy) {
  Collector got;
  std::atomic<bool> hold{true};
  auto policy = [&](const prometheus::WriteRequest& req, int) -> SendAttempt {
    if (hold && req.timeseries(0).samples(0).timestamp() == 2000) {
      return {{SendOutcome::kRetry, {}}, 503, "busy"};
    }
    return {{SendOutcome::kDelivered, {}}, 204, ""};
  };
  QueueOptions o = Options(1);
  o.endpoint.queue.max_samples_per_send = 1;
  auto store = std::make_shared<SeriesStore>();
  o.series_store = store;
  QueueManager q(o, wal_, std::make_unique<FakeTransport>(&got, policy));
  wal_.AppendSeries({{1, Labels{{"__name__", "a"}}}, {2, Labels{{"__name__", "b"}}}});
  wal_.AppendSamples({{2, 1000, 1}});
  wal_.AppendRemoved({2});
  wal_.AppendSamples({{1, 2000, 2}});
  wal_.AppendSamples({{1, 3000, 3}});
  ASSERT_TRUE(q.Start().ok());
  ASSERT_TRUE(Eventually([&] { return store->usage().blocks == 1; }))
      << store->usage().blocks << " blocks";
  EXPECT_EQ(q.Stats().pending_samples, 2);  // a@2000 retrying, a@3000 queued behind it
  hold = false;
  ASSERT_TRUE(q.Flush(Clock::now() + 10s).ok());
  EXPECT_EQ(got.size(), 3u);
  EXPECT_EQ(store->usage().blocks, 1u);  // a's
  q.Stop();
  EXPECT_EQ(store->usage().blocks, 0u);
}

TEST_F(QueueManagerTest, RetriesRetryableFailuresAndDropsRejectedBatches) {
  Collector got;
  std::atomic<int> rejected_batches{0};
  auto policy = [&](const prometheus::WriteRequest& req, int attempt) -> SendAttempt {
    if (testing::SeriesString(req.timeseries(0)).find("bad") != std::string::npos) {
      ++rejected_batches;
      return {{SendOutcome::kDrop, {}}, 400, "HTTP 400"};
    }
    if (attempt % 3 != 0) return {{SendOutcome::kRetry, {}}, 503, "HTTP 503"};
    return {{SendOutcome::kDelivered, {}}, 204, ""};
  };
  QueueManager q(Options(1), wal_, std::make_unique<FakeTransport>(&got, policy));
  DefineSeries(10);
  wal_.AppendSeries({{100, Labels{{"__name__", "bad"}}}});
  ASSERT_TRUE(q.Start().ok());
  std::vector<ReceivedSample> want;
  for (int step = 1; step <= 5; ++step) {
    for (auto& s : AppendStep(10, step)) want.push_back(s);
    ASSERT_TRUE(q.Flush(Clock::now() + 10s).ok());
    wal_.AppendSamples({{100, step * 1000LL, 1}, {100, step * 1000LL + 1, 2}});
    ASSERT_TRUE(q.Flush(Clock::now() + 10s).ok());
  }
  EXPECT_EQ(Sorted(got.Samples()), Sorted(want));  // each good sample exactly once
  QueueStats st = q.Stats();
  EXPECT_EQ(rejected_batches.load(), 5);
  EXPECT_EQ(st.samples_failed, 10u);
  EXPECT_EQ(st.batches_failed, 5u);
  EXPECT_EQ(st.samples_sent, 50u);
  EXPECT_GT(st.samples_retried, 0u);
  EXPECT_EQ(st.cursor, wal_.End());  // a dropped batch is acknowledged too
}

TEST_F(QueueManagerTest, RestartResumesAtThePersistedCursor) {
  Collector first, second;
  DefineSeries(20);
  for (int step = 1; step <= 5; ++step) AppendStep(20, step);
  {
    QueueManager q(Options(), wal_, std::make_unique<FakeTransport>(&first));
    ASSERT_TRUE(q.Start().ok());
    ASSERT_TRUE(q.Flush(Clock::now() + 10s).ok());
    q.Stop();
  }
  EXPECT_EQ(first.size(), 100u);
  auto cursor = LoadCursor(CursorPath(dir_.string(), "test"));
  ASSERT_TRUE(cursor.ok() && cursor->has_value());
  EXPECT_EQ(**cursor, wal_.End());

  std::vector<ReceivedSample> want;
  for (int step = 6; step <= 8; ++step) {
    for (auto& s : AppendStep(20, step)) want.push_back(s);
  }
  QueueManager q(Options(), wal_, std::make_unique<FakeTransport>(&second));
  ASSERT_TRUE(q.Start().ok());
  ASSERT_TRUE(q.Flush(Clock::now() + 10s).ok());
  EXPECT_EQ(Sorted(second.Samples()), Sorted(want));  // nothing lost, nothing repeated
}

TEST_F(QueueManagerTest, ACursorPastTheEndOfARecreatedWalIsIgnored) {
  ASSERT_TRUE(StoreCursor(CursorPath(dir_.string(), "test"), {100, 5}).ok());
  Collector got;
  DefineSeries(5);
  std::vector<ReceivedSample> want = AppendStep(5, 1);
  QueueManager q(Options(), wal_, std::make_unique<FakeTransport>(&got));
  ASSERT_TRUE(q.Start().ok());
  ASSERT_TRUE(q.Flush(Clock::now() + 10s).ok());
  EXPECT_EQ(Sorted(got.Samples()), Sorted(want));
}

TEST_F(QueueManagerTest, StopDuringAnOutageLosesNothingAndBoundsDuplicates) {
  Collector first, second;
  DefineSeries(30);
  std::vector<ReceivedSample> want;
  for (int step = 1; step <= 40; ++step) {
    for (auto& s : AppendStep(30, step)) want.push_back(s);
  }
  // The receiver accepts a few batches and then goes down.
  auto dies = [](const prometheus::WriteRequest&, int attempt) -> SendAttempt {
    if (attempt <= 4) return {{SendOutcome::kDelivered, {}}, 204, ""};
    return {{SendOutcome::kRetry, {}}, 0, "connection refused"};
  };
  QueueOptions o = Options(2);
  {
    auto transport = std::make_unique<FakeTransport>(&first, dies);
    FakeTransport* t = transport.get();
    QueueManager q(o, wal_, std::move(transport));
    ASSERT_TRUE(q.Start().ok());
    ASSERT_TRUE(Eventually([&] { return t->attempts() >= 8; }));
    EXPECT_EQ(q.Flush(Clock::now() + 50ms).code(), Status::Code::kDeadlineExceeded);
    q.Stop();
  }
  EXPECT_EQ(first.size(), 400u);
  EXPECT_LT(wal_.Acknowledged("remote_write/test").value(), wal_.End());

  QueueManager q(o, wal_, std::make_unique<FakeTransport>(&second));
  ASSERT_TRUE(q.Start().ok());
  ASSERT_TRUE(q.Flush(Clock::now() + 10s).ok());
  std::vector<ReceivedSample> all = first.Samples();
  for (auto& s : second.Samples()) all.push_back(s);
  std::set<ReceivedSample> unique(all.begin(), all.end());
  EXPECT_EQ(std::vector<ReceivedSample>(unique.begin(), unique.end()), Sorted(want));
  // Duplicates: at most what two shards had delivered but not yet acknowledged.
  EXPECT_LE(all.size() - unique.size(), 2u * 100u * 2u);
}

TEST_F(QueueManagerTest, ReaderWaitsOnFullQueuesWhileTheWalGrows) {
  Collector got;
  std::atomic<bool> receiver_up{false};
  auto policy = [&](const prometheus::WriteRequest&, int) -> SendAttempt {
    if (receiver_up) return {{SendOutcome::kDelivered, {}}, 204, ""};
    return {{SendOutcome::kRetry, {}}, 503, "down"};
  };
  QueueOptions o = Options(1);
  o.endpoint.queue.capacity = 100;
  o.endpoint.queue.max_samples_per_send = 50;
  QueueManager q(o, wal_, std::make_unique<FakeTransport>(&got, policy));
  DefineSeries(50);
  ASSERT_TRUE(q.Start().ok());
  for (int step = 1; step <= 50; ++step) AppendStep(50, step);  // never blocks
  // 100 queued + 50 in flight, and the reader stops there.
  ASSERT_TRUE(Eventually([&] { return q.Stats().pending_samples == 150; }));
  EXPECT_LE(q.Stats().samples_in, 200u);
  receiver_up = true;
  ASSERT_TRUE(q.Flush(Clock::now() + 10s).ok());
  EXPECT_EQ(got.size(), 2500u);
  EXPECT_EQ(q.Stats().pending_samples, 0);
}

TEST_F(QueueManagerTest, CountsSegmentsDeletedBeforeTheyWereRead) {
  Collector got;
  std::atomic<bool> receiver_up{false};
  auto policy = [&](const prometheus::WriteRequest&, int) -> SendAttempt {
    if (receiver_up) return {{SendOutcome::kDelivered, {}}, 204, ""};
    return {{SendOutcome::kRetry, {}}, 503, "down"};
  };
  QueueOptions o = Options(1);
  o.endpoint.queue.capacity = 100;
  o.endpoint.queue.max_samples_per_send = 100;
  QueueManager q(o, wal_, std::make_unique<FakeTransport>(&got, policy));
  DefineSeries(100);
  ASSERT_TRUE(q.Start().ok());
  for (int step = 1; step <= 40; ++step) AppendStep(100, step);  // 8 records per segment
  ASSERT_TRUE(Eventually([&] { return q.Stats().pending_samples == 200; }));
  wal_.DropSegmentsBefore(3);  // the size cap deletes what the reader has not reached
  receiver_up = true;
  ASSERT_TRUE(q.Flush(Clock::now() + 10s).ok());
  QueueStats st = q.Stats();
  EXPECT_EQ(st.wal_segments_skipped, 3u);
  EXPECT_EQ(got.size(), st.samples_in);
  EXPECT_LT(got.size(), 4000u);
  EXPECT_EQ(st.cursor, wal_.End());
}

TEST_F(QueueManagerTest, GrowsShardsWhileBehindAndShrinksWhenCaughtUp) {
  Collector got;
  auto slow = [](const prometheus::WriteRequest&, int) -> SendAttempt {
    std::this_thread::sleep_for(5ms);  // a slow receiver, not synchronisation
    return {{SendOutcome::kDelivered, {}}, 204, ""};
  };
  QueueOptions o = Options(1);
  o.endpoint.queue.max_shards = 4;
  o.endpoint.queue.capacity = 20;
  o.endpoint.queue.max_samples_per_send = 20;
  o.reshard_interval = 100ms;
  QueueManager q(o, wal_, std::make_unique<FakeTransport>(&got, slow));
  DefineSeries(100);
  for (int step = 1; step <= 100; ++step) AppendStep(100, step);
  ASSERT_TRUE(q.Start().ok());
  EXPECT_TRUE(Eventually([&] { return q.Stats().current_shards > 1; }));
  ASSERT_TRUE(q.Flush(Clock::now() + 30s).ok());
  EXPECT_EQ(got.size(), 10000u);
  EXPECT_TRUE(Eventually([&] { return q.Stats().current_shards == 1; }));
}

TEST_F(QueueManagerTest, LagIsAbsentBeforeTheFirstAckAndRisesThroughAnOutage) {
  Collector got;
  std::atomic<bool> up{false};
  std::atomic<int64_t> now_ms{100'000};
  QueueOptions o = Options(1);
  o.now_ms = [&] { return now_ms.load(); };
  auto transport = std::make_unique<FakeTransport>(
      &got, [&](const prometheus::WriteRequest&, int) -> SendAttempt {
        if (up) return {{SendOutcome::kDelivered, {}}, 204, ""};
        return {{SendOutcome::kRetry, {}}, 503, "HTTP 503"};
      });
  FakeTransport* fake = transport.get();
  QueueManager q(o, wal_, std::move(transport));
  ASSERT_TRUE(q.Start().ok());
  DefineSeries(5);
  AppendStep(5, 1);  // t = 1000
  ASSERT_TRUE(shardwise::testing::WaitFor([&] { return fake->attempts() >= 2; }));
  // Nothing acknowledged yet: no lag at all (not "now - 0").
  EXPECT_FALSE(q.Stats().lag_seconds.has_value());

  up = true;
  ASSERT_TRUE(shardwise::testing::WaitFor([&] { return got.size() >= 5; }));
  ASSERT_TRUE(shardwise::testing::WaitFor([&] { return q.Stats().lag_seconds.has_value(); }));
  EXPECT_DOUBLE_EQ(*q.Stats().lag_seconds, 99.0);  // now - 1 s

  // An outage: newer samples are read but not acknowledged, and the lag keeps rising
  // with the clock.
  up = false;
  const int before = fake->attempts();
  AppendStep(5, 2);  // t = 2000
  ASSERT_TRUE(shardwise::testing::WaitFor([&] { return fake->attempts() > before + 1; }));
  now_ms += 120'000;
  EXPECT_DOUBLE_EQ(*q.Stats().lag_seconds, 219.0);
  now_ms += 60'000;
  EXPECT_DOUBLE_EQ(*q.Stats().lag_seconds, 279.0);

  up = true;
  ASSERT_TRUE(q.Flush(Clock::now() + 10s).ok());
  EXPECT_DOUBLE_EQ(*q.Stats().lag_seconds, 278.0);  // now - 2 s
  q.Stop();
}

}  // namespace
}  // namespace shardwise::remotewrite
