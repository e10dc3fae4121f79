#include "scraper/remotewrite/remote_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "common/testing/test_util.h"
#include "scraper/remotewrite/memory_wal.h"
#include "scraper/remotewrite/test_receiver.h"

namespace shardwise::remotewrite {
namespace {

using namespace std::chrono_literals;
using testing::Collector;
using testing::FakeTransport;
using ::testing::HasSubstr;

EndpointConfig Endpoint(const std::string& name) {
  EndpointConfig ep;
  ep.url = "http://" + name + "/write";
  ep.name = name;
  ep.queue.batch_send_deadline = 10ms;
  return ep;
}

TEST(RemoteWriterTest, FansOutToEveryEndpointWithExternalAndReplicaLabels) {
  auto dir = std::filesystem::temp_directory_path() / ("rw-writer-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  MemoryWal wal;
  Collector a, b;
  std::vector<std::pair<EndpointConfig, std::unique_ptr<Transport>>> endpoints;
  endpoints.emplace_back(Endpoint("a"), std::make_unique<FakeTransport>(&a));
  endpoints.emplace_back(Endpoint("b"), std::make_unique<FakeTransport>(&b));
  RemoteWriterOptions o;
  o.external_labels = Labels{{"cluster", "c"}};
  o.replica_label = Label{"__replica__", "1"};
  o.cursor_dir = (dir / "remote-write").string();
  RemoteWriter rw(std::move(endpoints), o, wal);
  ASSERT_TRUE(rw.Start().ok());
  wal.AppendSeries({{7, Labels{{"__name__", "up"}}}});
  wal.AppendSamples({{7, 1000, 1}, {7, 2000, 0}});
  ASSERT_TRUE(rw.Flush(std::chrono::steady_clock::now() + 10s).ok());

  std::vector<testing::ReceivedSample> want = {
      {"{__name__=\"up\", __replica__=\"1\", cluster=\"c\"}", 1000, 1},
      {"{__name__=\"up\", __replica__=\"1\", cluster=\"c\"}", 2000, 0}};
  EXPECT_EQ(a.Samples(), want);
  EXPECT_EQ(b.Samples(), want);
  EXPECT_TRUE(std::filesystem::exists(dir / "remote-write" / "a.cursor"));
  EXPECT_TRUE(std::filesystem::exists(dir / "remote-write" / "b.cursor"));

  metrics::Writer w;
  WriteMetrics(rw.queues(), w);
  EXPECT_THAT(w.out(), HasSubstr("# TYPE shardwise_remote_write_samples_sent_total counter"));
  EXPECT_THAT(w.out(), HasSubstr("shardwise_remote_write_samples_sent_total{remote_name=\"a\","
                                 "url=\"http://a/write\"} 2\n"));
  EXPECT_THAT(w.out(), HasSubstr("shardwise_remote_write_highest_timestamp_sent_seconds{"
                                 "remote_name=\"b\",url=\"http://b/write\"} 2\n"));
  // The samples are stamped 1970: the lag is the whole time since.
  EXPECT_THAT(w.out(), HasSubstr("shardwise_remote_write_lag_seconds{remote_name=\"a\","
                                 "url=\"http://a/write\"} 17"));

  metrics::Registry registry;
  rw.RegisterMetrics(registry);
  EXPECT_THAT(registry.Expose(), HasSubstr("shardwise_remote_write_shards{remote_name=\"b\""));
  rw.Stop();
  std::filesystem::remove_all(dir);
}

// The plan's remote_write changes while the scraper runs: unchanged endpoints keep their
// queues (nothing resent), changed ones resume from their cursor, removed ones release the
// WAL, new ones start; new external labels restart every queue at its cursor.
TEST(RemoteWriterTest, ReconfigureKeepsUnchangedEndpointsAndTheirWalPositions) {
  auto dir = std::filesystem::temp_directory_path() / ("rw-reconf-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  MemoryWal wal;
  std::map<std::string, Collector> got;
  auto endpoint = [](const std::string& name, const std::string& source) {
    EndpointConfig ep = Endpoint(name);
    ep.source = source;
    return ep;
  };
  std::vector<std::pair<EndpointConfig, std::unique_ptr<Transport>>> endpoints;
  endpoints.emplace_back(endpoint("a", "a1"), std::make_unique<FakeTransport>(&got["a"]));
  endpoints.emplace_back(endpoint("b", "b1"), std::make_unique<FakeTransport>(&got["b"]));
  RemoteWriterOptions o;
  o.cursor_dir = (dir / "remote-write").string();
  o.cursor_sync_interval = 1ms;
  RemoteWriter rw(std::move(endpoints), o, wal);
  int transports_made = 0;
  rw.SetTransportFactory([&](const EndpointConfig& ep) {
    ++transports_made;
    return std::make_unique<FakeTransport>(&got[ep.name]);
  });
  ASSERT_TRUE(rw.Start().ok());
  auto times = [&](const std::string& name) {
    std::vector<int64_t> out;
    for (const auto& s : got[name].Samples()) out.push_back(s.t_ms);
    return out;
  };
  auto flush = [&] { ASSERT_TRUE(rw.Flush(std::chrono::steady_clock::now() + 10s).ok()); };
  wal.AppendSeries({{7, Labels{{"__name__", "up"}}}});
  wal.AppendSamples({{7, 1000, 1}});
  flush();

  // a unchanged, b removed, c added.
  ASSERT_TRUE(rw.Reconfigure({endpoint("a", "a1"), endpoint("c", "c1")}, Labels()).ok());
  EXPECT_EQ(transports_made, 1);
  EXPECT_FALSE(wal.Acknowledged("remote_write/b").has_value()) << "b still holds the WAL";
  wal.AppendSamples({{7, 2000, 1}});
  flush();
  EXPECT_EQ(times("a"), (std::vector<int64_t>{1000, 2000}));
  EXPECT_EQ(times("b"), (std::vector<int64_t>{1000}));
  EXPECT_EQ(times("c"), (std::vector<int64_t>{1000, 2000}));  // what the WAL holds
  ASSERT_EQ(rw.queues().size(), 2u);

  // a changed: a new queue under the same name, resuming after what a acknowledged.
  ASSERT_TRUE(rw.Reconfigure({endpoint("a", "a2"), endpoint("c", "c1")}, Labels()).ok());
  EXPECT_EQ(transports_made, 2);
  wal.AppendSamples({{7, 3000, 1}});
  flush();
  EXPECT_EQ(times("a"), (std::vector<int64_t>{1000, 2000, 3000}));
  EXPECT_EQ(times("c"), (std::vector<int64_t>{1000, 2000, 3000}));

  // New external labels: every queue restarts at its cursor with them.
  ASSERT_TRUE(
      rw.Reconfigure({endpoint("a", "a2"), endpoint("c", "c1")}, Labels{{"cluster", "x"}}).ok());
  EXPECT_EQ(transports_made, 4);
  wal.AppendSamples({{7, 4000, 1}});
  flush();
  ASSERT_EQ(got["c"].Samples().size(), 4u);
  EXPECT_EQ(got["c"].Samples().back().series, "{__name__=\"up\", cluster=\"x\"}");
  EXPECT_EQ(times("a"), (std::vector<int64_t>{1000, 2000, 3000, 4000}));
  rw.Stop();
  std::filesystem::remove_all(dir);
}

// Every endpoint sends the same series: their encoded labels are held once, not once per
// endpoint, and freed once every endpoint has read the series' removal (or stopped).
TEST(RemoteWriterTest, EndpointsShareOneCopyOfEachSeriesLabelsUntilTheSlowestForgetsIt) {
  MemoryWal wal;
  std::map<std::string, Collector> got;
  auto relabeled = ParseRemoteWriteConfig(
      "- {url: 'http://c/write', name: c, write_relabel_configs: [{action: labeldrop, "
      "regex: pod}]}");
  ASSERT_TRUE(relabeled.ok()) << relabeled.status().ToString();
  (*relabeled)[0].queue.batch_send_deadline = 10ms;
  std::vector<std::pair<EndpointConfig, std::unique_ptr<Transport>>> endpoints;
  endpoints.emplace_back(Endpoint("a"), std::make_unique<FakeTransport>(&got["a"]));
  endpoints.emplace_back(Endpoint("b"), std::make_unique<FakeTransport>(&got["b"]));
  endpoints.emplace_back((*relabeled)[0], std::make_unique<FakeTransport>(&got["c"]));
  RemoteWriterOptions o;
  o.external_labels = Labels{{"cluster", "k"}};
  RemoteWriter rw(std::move(endpoints), o, wal);
  ASSERT_TRUE(rw.Start().ok());

  constexpr uint64_t kSeries = 600;  // over two table pages
  std::vector<WalSeries> series;
  std::vector<WalSample> samples;
  for (uint64_t ref = 1; ref <= kSeries; ++ref) {
    series.push_back({ref, Labels{{"__name__", "m"}, {"pod", "p" + std::to_string(ref)}}});
    samples.push_back({ref, 1000, double(ref)});
  }
  wal.AppendSeries(std::move(series));
  wal.AppendSamples(samples);
  ASSERT_TRUE(rw.Flush(std::chrono::steady_clock::now() + 10s).ok());
  EXPECT_EQ(got["a"].Samples().size(), kSeries);
  EXPECT_EQ(got["b"].Samples(), got["a"].Samples());
  EXPECT_EQ(got["a"].Samples()[0].series, "{__name__=\"m\", cluster=\"k\", pod=\"p1\"}");
  // c relabels: its labels differ, so it keeps its own (one block per series: all "m").
  EXPECT_EQ(got["c"].Samples()[0].series, "{__name__=\"m\", cluster=\"k\"}");
  EXPECT_EQ(rw.series_store().usage().blocks, 2 * kSeries) << "a and b share; c has its own";
  metrics::Registry registry;
  rw.RegisterMetrics(registry);
  EXPECT_THAT(registry.Expose(), HasSubstr("shardwise_remote_write_label_blocks " +
                                           std::to_string(2 * kSeries) + "\n"));

  // Retention removes the first half: every queue forgets it once its samples are out.
  std::vector<uint64_t> removed;
  for (uint64_t ref = 1; ref <= kSeries / 2; ++ref) removed.push_back(ref);
  wal.AppendRemoved(removed);
  ASSERT_TRUE(rw.Flush(std::chrono::steady_clock::now() + 10s).ok());
  EXPECT_TRUE(shardwise::testing::WaitFor([&] {
    return rw.series_store().usage().blocks == kSeries;
  })) << rw.series_store().usage().blocks;
  for (const QueueManager* q : rw.queues()) EXPECT_EQ(q->Stats().series, kSeries / 2);

  // b goes away: a still holds the shared blocks.
  ASSERT_TRUE(rw.Reconfigure({Endpoint("a"), (*relabeled)[0]}, o.external_labels).ok());
  EXPECT_EQ(rw.series_store().usage().blocks, kSeries);
  rw.Stop();
  EXPECT_EQ(rw.series_store().usage().blocks, 0u);
  EXPECT_EQ(rw.series_store().usage().bytes, 0u);
}

}  // namespace
}  // namespace shardwise::remotewrite
