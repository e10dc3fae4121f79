// Crash safety: a child process appends as fast as it can and reports through a pipe
// each batch whose Commit() has returned; the parent SIGKILLs it mid-stream, then opens
// the directory. Every reported batch must be there, bit for bit, with no gaps and no
// damage beyond (at most) a torn final record.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "scraper/tsdb/db.h"
#include "scraper/tsdb/testutil.h"

namespace shardwise::tsdb {
namespace {

constexpr int kSeries = 200;

Labels CrashLabels(int i) {
  return Labels{{"__name__", "crash_total"}, {"series", std::to_string(i)}};
}

[[noreturn]] void ChildAppendForever(const std::string& dir, FsyncPolicy policy, int fd) {
  DBOptions o;
  o.fsync_policy = policy;
  o.fsync_interval = std::chrono::milliseconds(20);
  o.retention_interval = std::chrono::milliseconds(0);
  o.wal_segment_size = 256 << 10;  // many segment rolls while being killed
  auto db = DB::Open(dir, o);
  if (!db.ok()) _exit(2);
  std::vector<storage::SeriesRef> refs(kSeries, 0);
  for (int64_t k = 1;; ++k) {
    auto app = (*db)->NewAppender();
    for (int i = 0; i < kSeries; ++i) {
      if (!app->Append(refs[i], CrashLabels(i), k * 1000, static_cast<double>(k * kSeries + i))
               .ok()) {
        _exit(3);
      }
    }
    if (!app->Commit().ok()) _exit(4);
    // Committed (and, under kEveryBatch, fsynced): tell the parent.
    if (::write(fd, &k, sizeof k) != sizeof k) _exit(5);
  }
}

void RunCrashTest(FsyncPolicy policy, int64_t batches_before_kill) {
  testing::TempDir dir("crash");
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    ChildAppendForever(dir.path(), policy, fds[1]);
  }
  ::close(fds[1]);
  // Let it get well into its stride (several segments), then kill it mid-append.
  int64_t reported = 0, k = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while (reported < batches_before_kill && std::chrono::steady_clock::now() < deadline) {
    ssize_t n = ::read(fds[0], &k, sizeof k);
    if (n != sizeof k) break;
    reported = k;
  }
  ::kill(pid, SIGKILL);
  // Drain what it reported before it died.
  while (::read(fds[0], &k, sizeof k) == sizeof k) reported = k;
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited on its own with " << WEXITSTATUS(status);
  ASSERT_GE(reported, batches_before_kill) << "child made too little progress";

  DBOptions o;
  o.retention_interval = std::chrono::milliseconds(0);
  auto db = DB::Open(dir.path(), o);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  for (const auto& d : (*db)->replay_report().damage) {
    // The only damage a kill can leave is an incomplete final record.
    EXPECT_TRUE(d.torn_tail) << d.ToString();
  }
  auto got = (*db)->Query({Matcher::Equal("__name__", "crash_total")}, 0, INT64_MAX);
  ASSERT_EQ(got.size(), size_t{kSeries});
  for (const auto& s : got) {
    int i = std::stoi(std::string(s.labels.Get("series")));
    ASSERT_GE(static_cast<int64_t>(s.samples.size()), reported) << s.labels.ToString();
    for (size_t j = 0; j < s.samples.size(); ++j) {
      int64_t kk = static_cast<int64_t>(j) + 1;
      ASSERT_EQ(s.samples[j].t, kk * 1000);
      ASSERT_EQ(s.samples[j].v, static_cast<double>(kk * kSeries + i));
    }
  }
  // The DB is writable after recovery.
  auto app = (*db)->NewAppender();
  storage::SeriesRef ref = 0;
  ASSERT_TRUE(app->Append(ref, CrashLabels(0), (reported + 1000) * 1000, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
}

TEST(DBCrashTest, SigkillDuringAppendsEveryBatchFsync) {
  RunCrashTest(FsyncPolicy::kEveryBatch, 300);
}

// Under the interval policy a committed batch is in the page cache: a process crash (as
// opposed to a power loss) still loses nothing.
TEST(DBCrashTest, SigkillDuringAppendsIntervalFsync) { RunCrashTest(FsyncPolicy::kInterval, 2000); }

}  // namespace
}  // namespace shardwise::tsdb
