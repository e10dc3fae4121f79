// A full disk under the WAL, on a real 8 MiB tmpfs (needs root to mount it; skipped with a
// message otherwise). The receiver is down while scrapes fill the disk: commits fail, the
// DB says so (metric, health line) and nothing crashes or tears. The receiver comes back:
// everything on disk is delivered, the acknowledged segments are deleted although no new
// checkpoint could be written beforehand (the reserve is used), and commits succeed again
// without a restart. Finally a restart on a full disk sends nothing already acknowledged.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <set>

#include "common/testing/test_util.h"
#include "scraper/remotewrite/queue_manager.h"
#include "scraper/remotewrite/test_receiver.h"
#include "scraper/remotewrite/tsdb_wal_source.h"
#include "scraper/tsdb/db.h"
#include "scraper/tsdb/metrics.h"

namespace shardwise::remotewrite {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using shardwise::testing::WaitFor;
using testing::Collector;
using testing::FakeTransport;
using testing::ReceivedSample;

constexpr int kSeries = 200;
constexpr int64_t kStart = 1'780'000'000'000;

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs (CI runs as root)";
    if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, "size=8m") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs on " << dir_.path() << ": " << std::strerror(errno);
    }
    mounted_ = true;
  }
  void TearDown() override {
    queue_.reset();
    db_.reset();
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }

  void Open() {
    tsdb::DBOptions o;
    o.wal_segment_size = 256 << 10;
    o.retention = std::chrono::hours(24);
    o.retention_interval = 0ms;
    o.now_ms = [this] { return now_ms_.load(); };
    auto db = tsdb::DB::Open(dir_.path() + "/data", o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    source_ = std::make_unique<TsdbWalSource>(*db_);
    QueueOptions q;
    q.endpoint.url = "http://unused/";
    q.endpoint.name = "full";
    q.endpoint.queue.max_samples_per_send = 500;
    q.endpoint.queue.capacity = 2000;
    q.endpoint.queue.batch_send_deadline = 10ms;
    q.endpoint.queue.min_backoff = 5ms;
    q.endpoint.queue.max_backoff = 20ms;
    q.cursor_dir = dir_.path() + "/data/remote-write";  // on the full disk too
    q.cursor_sync_interval = 0ms;
    q.wal_poll_interval = 20ms;
    queue_ = std::make_unique<QueueManager>(
        q, *source_, std::make_unique<FakeTransport>(&got_, [this](const auto&, int) {
          return up_ ? SendAttempt{{SendOutcome::kDelivered, {}}, 204, ""}
                     : SendAttempt{{SendOutcome::kRetry, {}}, 503, "HTTP 503"};
        }));
    ASSERT_TRUE(queue_->Start().ok());
  }

  // One scrape; true when it was stored (its samples then belong to `committed_`).
  bool Scrape() {
    const int64_t t = now_ms_ += 1000;
    auto app = db_->NewAppender();
    std::vector<ReceivedSample> batch;
    for (int i = 0; i < kSeries; ++i) {
      storage::SeriesRef ref = 0;
      const std::string instance = "host-" + std::to_string(i) + ".example.internal:9100";
      Labels labels{{"__name__", "disk_full_test_metric_with_a_long_name"}, {"instance", instance}};
      EXPECT_TRUE(app->Append(ref, labels, t, i).ok());
      batch.push_back(
          {"{__name__=\"disk_full_test_metric_with_a_long_name\", instance=\"" + instance + "\"}",
           t, static_cast<double>(i)});
    }
    if (!app->Commit().ok()) return false;
    committed_.insert(committed_.end(), batch.begin(), batch.end());
    return true;
  }

  std::set<ReceivedSample> Received() const {
    auto v = got_.Samples();
    return {v.begin(), v.end()};
  }

  shardwise::testing::TempDir dir_;
  bool mounted_ = false;
  std::atomic<int64_t> now_ms_{kStart};
  std::atomic<bool> up_{false};
  Collector got_;
  std::unique_ptr<tsdb::DB> db_;
  std::unique_ptr<TsdbWalSource> source_;
  std::unique_ptr<QueueManager> queue_;
  std::vector<ReceivedSample> committed_;
};

TEST_F(DiskFullTest, FillsDegradesHealsAndRestartsWithoutResending) {
  Open();
  auto& m = tsdb::TsdbMetrics::Get();
  const double failures_before = m.wal_write_failures.Value();

  // 1. Receiver down: scrapes fill the disk, then fail; nothing crashes.
  int stored = 0;
  for (int i = 0; i < 20000 && Scrape(); ++i) ++stored;
  ASSERT_GT(stored, 100);
  ASSERT_LT(stored, 20000) << "the disk never filled";
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(Scrape());
  tsdb::WalHealth health = db_->wal_health();
  EXPECT_TRUE(health.writes_failing);
  EXPECT_TRUE(health.disk_full);
  EXPECT_NE(health.ToString().find("WAL disk full"), std::string::npos) << health.ToString();
  EXPECT_EQ(m.wal_disk_full.Value(), 1);
  EXPECT_GE(m.wal_write_failures.Value() - failures_before, 6);

  // 2. Receiver back: everything stored arrives; acknowledged segments are deleted, so
  // scrapes are stored again, without a restart.
  up_ = true;
  bool resumed = false;
  ASSERT_TRUE(WaitFor(
      [&] {
        resumed = resumed || Scrape();
        return resumed;
      },
      60s))
      << "writes never resumed: " << db_->wal_health().ToString();
  EXPECT_FALSE(db_->wal_health().writes_failing);
  EXPECT_EQ(m.wal_disk_full.Value(), 0);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(Scrape());
  ASSERT_TRUE(queue_->Flush(Clock::now() + 30s).ok());
  std::set<ReceivedSample> received = Received();
  EXPECT_EQ(received, std::set<ReceivedSample>(committed_.begin(), committed_.end()));

  // 3. Fill the disk to the last byte, then restart on it: the replay finds no damage, and
  // nothing already acknowledged is sent again.
  {
    std::ofstream ballast(dir_.path() + "/ballast", std::ios::binary);
    std::string block(64 << 10, 'x');
    for (int i = 0; i < 1000 && ballast.write(block.data(), block.size()); ++i) {
    }
  }
  const size_t sent_before_restart = got_.size();
  queue_.reset();
  source_.reset();
  db_.reset();
  Open();
  EXPECT_TRUE(db_->replay_report().damage.empty());
  ASSERT_TRUE(queue_->Flush(Clock::now() + 30s).ok());
  EXPECT_EQ(got_.size(), sent_before_restart);
  EXPECT_EQ(queue_->Stats().samples_in, 0u);
}

}  // namespace
}  // namespace shardwise::remotewrite
