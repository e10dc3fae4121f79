#include "scraper/remotewrite/remote_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

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

}  // namespace
}  // namespace shardwise::remotewrite
