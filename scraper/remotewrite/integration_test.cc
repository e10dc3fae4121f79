// End to end: the embedded TSDB's WAL -> RemoteWriter -> a real receiver on loopback
// (Debian's `prometheus` with --web.enable-remote-write-receiver, and `victoria-metrics`).
// Every sample must arrive with the right labels and value, also across a receiver outage.
// Skipped when the receiver binary is not installed.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/http/client.h"
#include "scraper/remotewrite/remote_writer.h"
#include "scraper/remotewrite/test_receiver.h"
#include "scraper/remotewrite/tsdb_wal_source.h"
#include "scraper/tsdb/testutil.h"

namespace shardwise::remotewrite {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::ChildProcess;
using testing::FindOnPath;
using testing::FreePort;
using testing::ReceivedSample;
using testing::WaitReady;

constexpr int kSeries = 10;

// One receiver flavour: how to start it and how to read back what it stored.
class Receiver {
 public:
  virtual ~Receiver() = default;
  virtual bool Start() = 0;
  virtual void Stop() = 0;
  virtual std::string write_url() const = 0;
  virtual std::vector<ReceivedSample> Read(http::Client& client) = 0;
};

std::string SeriesKey(const nlohmann::json& metric) {
  std::vector<std::pair<std::string, std::string>> labels;
  for (auto& [k, v] : metric.items()) labels.emplace_back(k, v.get<std::string>());
  std::sort(labels.begin(), labels.end());
  std::string s = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    s += (i ? ", " : "") + labels[i].first + "=\"" + labels[i].second + "\"";
  }
  return s + "}";
}

class PrometheusReceiver : public Receiver {
 public:
  explicit PrometheusReceiver(std::string dir) : dir_(std::move(dir)), port_(FreePort()) {
    std::ofstream(dir_ + "/prometheus.yml") << "global: {}\n";
  }
  bool Start() override {
    proc_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"prometheus", "--config.file=" + dir_ + "/prometheus.yml",
                                 "--storage.tsdb.path=" + dir_ + "/data",
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                 "--web.enable-remote-write-receiver"},
        dir_ + "/prometheus.log");
    return proc_->running() && WaitReady(client_, base() + "/-/ready", 30s);
  }
  void Stop() override { proc_.reset(); }
  std::string write_url() const override { return base() + "/api/v1/write"; }
  std::vector<ReceivedSample> Read(http::Client& client) override {
    http::ClientRequest req;
    req.url = base() + "/api/v1/query?query=" + http::PercentEncode("{__name__=\"rw_it\"}[2h]");
    auto resp = client.DoSync(req);
    std::vector<ReceivedSample> out;
    if (!resp.ok() || resp->status != 200) return out;
    auto doc = nlohmann::json::parse(resp->body);
    for (auto& series : doc["data"]["result"]) {
      std::string key = SeriesKey(series["metric"]);
      for (auto& v : series["values"]) {
        out.push_back({key, static_cast<int64_t>(std::llround(v[0].get<double>() * 1000)),
                       std::stod(v[1].get<std::string>())});
      }
    }
    return out;
  }

 private:
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string dir_;
  int port_;
  http::Client client_;
  std::unique_ptr<ChildProcess> proc_;
};

class VictoriaMetricsReceiver : public Receiver {
 public:
  explicit VictoriaMetricsReceiver(std::string dir) : dir_(std::move(dir)), port_(FreePort()) {}
  bool Start() override {
    proc_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"victoria-metrics",
                                 "-httpListenAddr=127.0.0.1:" + std::to_string(port_),
                                 "-storageDataPath=" + dir_ + "/data", "-search.latencyOffset=0s",
                                 "-retentionPeriod=10y"},
        dir_ + "/victoria-metrics.log");
    return proc_->running() && WaitReady(client_, base() + "/health", 30s);
  }
  void Stop() override { proc_.reset(); }
  std::string write_url() const override { return base() + "/api/v1/write"; }
  std::vector<ReceivedSample> Read(http::Client& client) override {
    http::ClientRequest flush;
    flush.url = base() + "/internal/force_flush";
    (void)client.DoSync(flush);
    http::ClientRequest req;
    req.url = base() + "/api/v1/export?match[]=" + http::PercentEncode("{__name__=\"rw_it\"}");
    auto resp = client.DoSync(req);
    std::vector<ReceivedSample> out;
    if (!resp.ok() || resp->status != 200) return out;
    std::istringstream lines(resp->body);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty()) continue;
      auto doc = nlohmann::json::parse(line);
      std::string key = SeriesKey(doc["metric"]);
      for (size_t i = 0; i < doc["values"].size(); ++i) {
        out.push_back({key, doc["timestamps"][i].get<int64_t>(), doc["values"][i].get<double>()});
      }
    }
    return out;
  }

 private:
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string dir_;
  int port_;
  http::Client client_;
  std::unique_ptr<ChildProcess> proc_;
};

class IntegrationTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (FindOnPath(GetParam()).empty()) GTEST_SKIP() << GetParam() << " is not installed";
    std::filesystem::create_directories(dir_.path() + "/rx");
    if (GetParam() == "prometheus") {
      rx_ = std::make_unique<PrometheusReceiver>(dir_.path() + "/rx");
    } else {
      rx_ = std::make_unique<VictoriaMetricsReceiver>(dir_.path() + "/rx");
    }
    ASSERT_TRUE(rx_->Start()) << "receiver did not become ready; see " << dir_.path() << "/rx";
    tsdb::DBOptions o;
    o.wal_segment_size = 2048;
    o.retention_interval = 0ms;
    auto db = tsdb::DB::Open(dir_.path() + "/scraper", o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    source_ = std::make_unique<TsdbWalSource>(*db_);
    // Recent timestamps: receivers reject samples far outside their head/retention.
    t0_ = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count() -
          30 * 60 * 1000;
    t0_ -= t0_ % 1000;
  }

  std::unique_ptr<RemoteWriter> Writer() {
    EndpointConfig ep;
    ep.url = rx_->write_url();
    ep.name = GetParam();
    ep.remote_timeout = 5s;
    ep.queue.max_samples_per_send = 50;  // several batches per scrape round
    ep.queue.batch_send_deadline = 100ms;
    ep.queue.min_backoff = 50ms;
    ep.queue.max_backoff = 500ms;
    RemoteWriterOptions o;
    o.external_labels = Labels{{"cluster", "it"}};
    o.replica_label = Label{"replica", "0"};
    o.cursor_dir = dir_.path() + "/scraper/remote-write";
    return std::make_unique<RemoteWriter>(std::vector<EndpointConfig>{ep}, o, *source_, client_);
  }

  // One scrape interval (15 s of sample time) of every series; values are exact in
  // both receivers' storage formats.
  void Scrape(int step, std::vector<ReceivedSample>* want) {
    auto app = db_->NewAppender();
    int64_t t = t0_ + step * 15000LL;
    for (int i = 0; i < kSeries; ++i) {
      storage::SeriesRef ref = 0;
      double v = i * 1000 + step + 0.5;
      Labels labels{{"__name__", "rw_it"}, {"instance", "host-" + std::to_string(i)}};
      ASSERT_TRUE(app->Append(ref, labels, t, v).ok());
      want->push_back({"{__name__=\"rw_it\", cluster=\"it\", instance=\"host-" + std::to_string(i) +
                           "\", replica=\"0\"}",
                       t, v});
    }
    ASSERT_TRUE(app->Commit().ok());
  }

  // Reads back until `want` is all there (receivers index asynchronously).
  void ExpectStored(std::vector<ReceivedSample> want) {
    std::sort(want.begin(), want.end());
    std::vector<ReceivedSample> got;
    auto deadline = Clock::now() + 20s;
    do {
      got = rx_->Read(client_);
      std::sort(got.begin(), got.end());
      if (got == want) break;
      std::this_thread::sleep_for(200ms);
    } while (Clock::now() < deadline);
    EXPECT_EQ(got.size(), want.size());
    EXPECT_EQ(got, want);
  }

  tsdb::testing::TempDir dir_{"rw_integration"};
  http::Client client_;
  std::unique_ptr<Receiver> rx_;
  std::unique_ptr<tsdb::DB> db_;
  std::unique_ptr<TsdbWalSource> source_;
  int64_t t0_ = 0;
};

TEST_P(IntegrationTest, EverySampleArrivesWithItsLabelsAndValue) {
  std::vector<ReceivedSample> want;
  auto writer = Writer();
  ASSERT_TRUE(writer->Start().ok());
  for (int step = 0; step < 30; ++step) Scrape(step, &want);
  ASSERT_TRUE(writer->Flush(Clock::now() + 30s).ok());
  QueueStats st = writer->queues()[0]->Stats();
  EXPECT_EQ(st.samples_sent, want.size());
  EXPECT_EQ(st.samples_failed, 0u);
  ExpectStored(want);
}

TEST_P(IntegrationTest, NothingIsLostWhileTheReceiverIsDown) {
  std::vector<ReceivedSample> want;
  auto writer = Writer();
  ASSERT_TRUE(writer->Start().ok());
  for (int step = 0; step < 10; ++step) Scrape(step, &want);
  ASSERT_TRUE(writer->Flush(Clock::now() + 30s).ok());

  rx_->Stop();
  for (int step = 10; step < 20; ++step) Scrape(step, &want);  // scraping goes on
  auto retried = [&] { return writer->queues()[0]->Stats().samples_retried; };
  auto deadline = Clock::now() + 20s;
  while (retried() == 0 && Clock::now() < deadline) std::this_thread::sleep_for(50ms);
  EXPECT_GT(retried(), 0u);
  EXPECT_EQ(writer->Flush(Clock::now() + 2s).code(), Status::Code::kDeadlineExceeded);

  // The scraper restarts too while the receiver is away: the cursor carries over.
  writer->Stop();
  writer.reset();
  writer = Writer();
  ASSERT_TRUE(writer->Start().ok());
  for (int step = 20; step < 25; ++step) Scrape(step, &want);

  ASSERT_TRUE(rx_->Start());
  ASSERT_TRUE(writer->Flush(Clock::now() + 30s).ok());
  ExpectStored(want);
}

INSTANTIATE_TEST_SUITE_P(Receivers, IntegrationTest,
                         ::testing::Values("prometheus", "victoria-metrics"), [](const auto& info) {
                           return info.param == "prometheus" ? std::string("Prometheus")
                                                             : std::string("VictoriaMetrics");
                         });

}  // namespace
}  // namespace shardwise::remotewrite
