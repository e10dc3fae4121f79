// The real shardwise-scraper SIGKILLed mid-stream and restarted on the same data dir loses
// nothing it had committed, and remote write delivers all of it to a real receiver
// (Debian's victoria-metrics); duplicates come only from batches in flight at a kill.
//
// A loopback target serves a counter that grows by one on every scrape, so each sample
// is identified by its value. The run:
//   1. victoria-metrics is down; the scraper (--storage.tsdb.wal-fsync=batch) scrapes,
//      remote write can send nothing; we read what it committed (its remote-read API),
//      then SIGKILL it. Everything so far exists only in its WAL.
//   2. victoria-metrics starts; the scraper restarts on the same data dir, sends the
//      backlog and fresh scrapes; once fresh samples reach the receiver we read what it
//      committed and SIGKILL it again while it is streaming.
//   3. A third run scrapes a little more and is stopped with SIGTERM (graceful drain).
// Oracle: the scraper's data dir opened in-process after the last run. Everything read
// before each kill must be in it, and the receiver must hold exactly its samples (as a
// set); a sample may be stored twice only if it was scraped before the second kill.
#include <gtest/gtest.h>
#include <signal.h>
#include <snappy.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/http/client.h"
#include "common/http/message.h"
#include "common/http/server.h"
#include "common/prompb/remote.pb.h"
#include "common/testing/local_process.h"
#include "common/testing/test_util.h"
#include "scraper/tsdb/db.h"

namespace shardwise {
namespace {

using namespace std::chrono_literals;
using shardwise::testing::ChildProcess;
using shardwise::testing::FreePort;
using shardwise::testing::TempDir;
using shardwise::testing::WaitFor;

constexpr char kMetric[] = "crash_counter_total";

// (timestamp ms, value) of the counter series.
using Point = std::pair<int64_t, double>;
using PointSet = std::set<Point>;

std::string Base(int port) { return "http://127.0.0.1:" + std::to_string(port); }

bool Answers200(http::Client& client, const std::string& url) {
  http::ClientRequest req;
  req.url = url;
  req.timeout = 2s;
  auto resp = client.DoSync(req);
  return resp.ok() && resp->status == 200;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Staleness markers (NaN) are written on graceful stop and are not identified by value;
// the comparison is about the counter's real samples.
void AddUnlessNaN(int64_t t, double v, std::vector<Point>* out) {
  if (!std::isnan(v)) out->emplace_back(t, v);
}

// What the running scraper has committed, through its remote-read endpoint.
std::optional<PointSet> ReadScraper(http::Client& client, int port) {
  prometheus::ReadRequest read;
  auto* q = read.add_queries();
  q->set_start_timestamp_ms(0);
  q->set_end_timestamp_ms(std::numeric_limits<int64_t>::max());
  auto* m = q->add_matchers();
  m->set_type(prometheus::LabelMatcher::EQ);
  m->set_name("__name__");
  m->set_value(kMetric);
  std::string raw;
  read.SerializeToString(&raw);
  http::ClientRequest req;
  req.method = "POST";
  req.url = Base(port) + "/api/v1/read";
  req.headers = {{"Content-Type", "application/x-protobuf"},
                 {"Content-Encoding", "snappy"},
                 {"X-Prometheus-Remote-Read-Version", "0.1.0"}};
  snappy::Compress(raw.data(), raw.size(), &req.body);
  req.timeout = 5s;
  auto resp = client.DoSync(req);
  if (!resp.ok() || resp->status != 200) return std::nullopt;
  std::string decoded;
  prometheus::ReadResponse out;
  if (!snappy::Uncompress(resp->body.data(), resp->body.size(), &decoded) ||
      !out.ParseFromString(decoded) || out.results_size() != 1) {
    return std::nullopt;
  }
  std::vector<Point> points;
  for (const auto& ts : out.results(0).timeseries()) {
    for (const auto& s : ts.samples()) AddUnlessNaN(s.timestamp(), s.value(), &points);
  }
  return PointSet(points.begin(), points.end());
}

// Every stored sample of the counter in victoria-metrics, duplicates included. CSV
// rather than JSON export: a staleness marker would be an unquoted NaN in JSON.
std::optional<std::vector<Point>> ReadReceiver(http::Client& client, int port) {
  http::ClientRequest flush;
  flush.url = Base(port) + "/internal/force_flush";
  (void)client.DoSync(flush);
  http::ClientRequest req;
  req.url = Base(port) +
            "/api/v1/export/csv?format=" + http::PercentEncode("__timestamp__:unix_ms,__value__") +
            "&match[]=" + http::PercentEncode(kMetric);
  req.timeout = 5s;
  auto resp = client.DoSync(req);
  if (!resp.ok() || resp->status != 200) return std::nullopt;
  std::vector<Point> points;
  std::istringstream lines(resp->body);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    size_t comma = line.find(',');
    if (comma == std::string::npos) return std::nullopt;
    AddUnlessNaN(std::stoll(line.substr(0, comma)), std::stod(line.substr(comma + 1)), &points);
  }
  return points;
}

// The data dir as the next start would see it: WAL replayed into a fresh head.
Result<PointSet> ReadDataDir(const std::string& dir) {
  tsdb::DBOptions o;
  o.retention_interval = 0ms;
  auto db = tsdb::DB::Open(dir, o);
  if (!db.ok()) return db.status();
  std::vector<Point> points;
  for (const auto& s : (*db)->Query({tsdb::Matcher::Equal("__name__", kMetric)}, 0,
                                    std::numeric_limits<int64_t>::max())) {
    for (const auto& sample : s.samples) AddUnlessNaN(sample.t, sample.v, &points);
  }
  return PointSet(points.begin(), points.end());
}

double MaxValue(const PointSet& points) {
  double max = 0;
  for (const auto& p : points) max = std::max(max, p.second);
  return max;
}

class ScraperCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    target_.HandleExact("/metrics", http::Simple([this](const http::Request&) {
                          int64_t v = ++served_;
                          return http::Response::Text(200, std::string("# TYPE ") + kMetric +
                                                               " counter\n" + kMetric + " " +
                                                               std::to_string(v) + "\n");
                        }));
    ASSERT_TRUE(target_.Start().ok());
    vm_port_ = FreePort();
    ASSERT_NE(vm_port_, 0);
    config_ = dir_.File("scraper.yml",
                        "global:\n"
                        "  scrape_interval: 250ms\n"
                        "  scrape_timeout: 200ms\n"
                        "scrape_configs:\n"
                        "- job_name: crash\n"
                        "  static_configs:\n"
                        "  - targets: ['127.0.0.1:" +
                            std::to_string(target_.port()) +
                            "']\n"
                            "remote_write:\n"
                            "- url: " +
                            Base(vm_port_) +
                            "/api/v1/write\n"
                            "  remote_timeout: 10s\n"
                            "  queue_config:\n"
                            "    max_samples_per_send: 2\n"
                            "    batch_send_deadline: 50ms\n"
                            "    min_backoff: 50ms\n"
                            "    max_backoff: 200ms\n");
    data_dir_ = dir_.path() + "/data";
  }
  void TearDown() override {
    scraper_.reset();
    vm_.reset();
    target_.Stop();
    if (HasFailure()) {
      std::cerr << "--- scraper log ---\n"
                << ReadFile(dir_.path() + "/scraper.log") << "--- victoria-metrics log ---\n"
                << ReadFile(dir_.path() + "/vm.log");
    }
  }

  // Starts the scraper on the shared data dir and waits until it answers /readyz.
  void StartScraper() {
    scraper_port_ = FreePort();
    ASSERT_NE(scraper_port_, 0);
    scraper_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{SHARDWISE_SCRAPER_BINARY, "--config.file=" + config_,
                                 "--storage.tsdb.path=" + data_dir_,
                                 "--storage.tsdb.wal-fsync=batch",
                                 "--web.listen-address=127.0.0.1:" + std::to_string(scraper_port_),
                                 "--remote-write.drain-timeout=20s", "--log.level=debug"},
        dir_.path() + "/scraper.log");
    ASSERT_TRUE(scraper_->running());
    ASSERT_TRUE(WaitFor([&] { return Answers200(client_, Base(scraper_port_) + "/readyz"); }, 20s))
        << "scraper not ready";
  }

  void StartReceiver() {
    vm_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{VICTORIA_METRICS_BINARY,
                                 "-httpListenAddr=127.0.0.1:" + std::to_string(vm_port_),
                                 "-storageDataPath=" + dir_.path() + "/vm",
                                 "-search.latencyOffset=0s", "-retentionPeriod=10y"},
        dir_.path() + "/vm.log");
    ASSERT_TRUE(vm_->running());
    ASSERT_TRUE(WaitFor([&] { return Answers200(client_, Base(vm_port_) + "/health"); }, 30s))
        << "victoria-metrics not ready";
  }

  // Waits until the scraper has committed a sample newer than `value`; returns the set it
  // reports then (everything in it was committed, so it must survive a kill).
  PointSet WaitCommittedBeyond(double value) {
    PointSet committed;
    bool ok = WaitFor(
        [&] {
          auto got = ReadScraper(client_, scraper_port_);
          if (got) committed = std::move(*got);
          return MaxValue(committed) > value;
        },
        20s);
    EXPECT_TRUE(ok) << "scraper committed nothing beyond " << value;
    return committed;
  }

  // SIGKILL; returns how many scrapes the target had served by then.
  int64_t KillScraper() {
    int status = scraper_->SignalAndWait(SIGKILL, 10s);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "wait status " << status;
    scraper_.reset();
    return served_.load();
  }

  TempDir dir_;
  http::Server target_{{}};
  std::atomic<int64_t> served_{0};
  http::Client client_;
  int vm_port_ = 0;
  int scraper_port_ = 0;
  std::string config_, data_dir_;
  std::unique_ptr<ChildProcess> vm_;
  std::unique_ptr<ChildProcess> scraper_;
};

TEST_F(ScraperCrashTest, SigkillMidStreamLosesNothingCommitted) {
  // 1. Receiver down: whatever is committed now can only reach it through the WAL.
  ASSERT_NO_FATAL_FAILURE(StartScraper());
  PointSet committed_before_first_kill = WaitCommittedBeyond(10);
  int64_t first_kill = KillScraper();
  ASSERT_GE(committed_before_first_kill.size(), 5u);

  // 2. Receiver up, restart, kill again while fresh samples are streaming to it.
  ASSERT_NO_FATAL_FAILURE(StartReceiver());
  ASSERT_NO_FATAL_FAILURE(StartScraper());
  ASSERT_TRUE(WaitFor(
      [&] {
        auto got = ReadReceiver(client_, vm_port_);
        if (!got) return false;
        double max = 0;
        for (const auto& p : *got) max = std::max(max, p.second);
        return max > static_cast<double>(first_kill) + 6;
      },
      30s))
      << "no fresh samples reached victoria-metrics after the restart";
  PointSet committed_before_second_kill = WaitCommittedBeyond(static_cast<double>(first_kill) + 6);
  int64_t second_kill = KillScraper();

  // 3. Restart once more and stop gracefully: remote write drains before exit.
  ASSERT_NO_FATAL_FAILURE(StartScraper());
  WaitCommittedBeyond(static_cast<double>(second_kill) + 6);
  int status = scraper_->SignalAndWait(SIGTERM, 40s);
  scraper_.reset();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;

  auto stored = ReadDataDir(data_dir_);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  for (const PointSet* committed : {&committed_before_first_kill, &committed_before_second_kill}) {
    for (const Point& p : *committed) {
      EXPECT_TRUE(stored->count(p))
          << "committed sample lost across SIGKILL: t=" << p.first << " v=" << p.second;
    }
  }

  // The receiver indexes asynchronously: poll until it holds the data dir's samples.
  std::vector<Point> received;
  PointSet received_set;
  WaitFor(
      [&] {
        auto got = ReadReceiver(client_, vm_port_);
        if (!got) return false;
        received = std::move(*got);
        received_set = PointSet(received.begin(), received.end());
        return received_set == *stored;
      },
      20s);
  EXPECT_EQ(received_set.size(), stored->size());
  for (const Point& p : *stored) {
    EXPECT_TRUE(received_set.count(p)) << "never delivered: t=" << p.first << " v=" << p.second;
  }
  for (const Point& p : received_set) {
    EXPECT_TRUE(stored->count(p)) << "delivered but not in the WAL: t=" << p.first
                                  << " v=" << p.second;
  }

  // Duplicates: only batches in flight at the second kill (the receiver was down at the
  // first) may have been sent twice, and those were all scraped before it.
  std::map<Point, int> copies;
  for (const Point& p : received) ++copies[p];
  int duplicates = 0;
  for (const auto& [p, n] : copies) {
    if (n < 2) continue;
    duplicates += n - 1;
    EXPECT_LE(p.second, static_cast<double>(second_kill))
        << "sample scraped after the last kill delivered " << n << " times";
  }
  RecordProperty("samples", static_cast<int>(stored->size()));
  RecordProperty("duplicates", duplicates);
  RecordProperty("first_kill_after_scrapes", static_cast<int>(first_kill));
  RecordProperty("second_kill_after_scrapes", static_cast<int>(second_kill));
}

}  // namespace
}  // namespace shardwise
