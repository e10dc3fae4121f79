#include "scraper/remotewrite/metadata_sender.h"

#include <gtest/gtest.h>

#include <mutex>

#include "common/testing/test_util.h"
#include "scraper/remotewrite/test_receiver.h"

namespace shardwise::remotewrite {
namespace {

using storage::MetricMetadata;
using storage::MetricType;

std::vector<MetricMetadata> Sample() {
  return {
      {"a_total", MetricType::kCounter, "Requests.", ""},
      {"b", MetricType::kGauge, "", "bytes"},
      {"c", MetricType::kGaugeHistogram, "Help with \"quotes\" and \\n.", ""},
      {"d", MetricType::kUnknown, "Only help.", ""},
      {"e", MetricType::kStateset, "", ""},
  };
}

TEST(EncodeMetadataRequestTest, MatchesLibprotobuf) {
  std::vector<MetricMetadata> in = Sample();
  std::string ours;
  EncodeMetadataRequest(in, &ours);
  prometheus::WriteRequest want;
  for (const MetricMetadata& m : in) {
    prometheus::MetricMetadata* pm = want.add_metadata();
    pm->set_type(static_cast<prometheus::MetricMetadata::MetricType>(m.type));
    pm->set_metric_family_name(m.family);
    pm->set_help(m.help);
    pm->set_unit(m.unit);
  }
  EXPECT_EQ(ours, want.SerializeAsString());
  EXPECT_EQ(prometheus::MetricMetadata::GAUGEHISTOGRAM,
            static_cast<int>(MetricType::kGaugeHistogram));
}

// Records every request's metadata; answers from a script of HTTP statuses (then 200).
class RecordingTransport : public Transport {
 public:
  explicit RecordingTransport(std::vector<int> statuses = {}) : statuses_(std::move(statuses)) {}
  SendAttempt Send(std::string_view body) override {
    std::lock_guard lock(mu_);
    int status = calls_ < statuses_.size() ? statuses_[calls_] : 200;
    ++calls_;
    if (status == 200) {
      auto req = testing::DecodeBody(body);
      if (!req.ok()) return {{SendOutcome::kDrop, {}}, 400, "undecodable"};
      EXPECT_EQ(req->timeseries_size(), 0);
      std::vector<MetricMetadata> got;
      for (const auto& m : req->metadata()) {
        got.push_back(
            {m.metric_family_name(), static_cast<MetricType>(m.type()), m.help(), m.unit()});
      }
      requests_.push_back(std::move(got));
    }
    return {ClassifyStatus(status, "", true, std::chrono::system_clock::now()), status, ""};
  }
  std::vector<std::vector<MetricMetadata>> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<int> statuses_;
  size_t calls_ = 0;
  std::vector<std::vector<MetricMetadata>> requests_;
};

EndpointConfig Config(int per_send) {
  EndpointConfig c;
  c.url = "http://127.0.0.1:1/api/v1/write";
  c.name = "test";
  c.metadata.max_samples_per_send = per_send;
  c.metadata.send_interval = std::chrono::seconds(30);
  c.queue.min_backoff = std::chrono::milliseconds(1);
  c.queue.max_backoff = std::chrono::milliseconds(2);
  return c;
}

TEST(MetadataSenderTest, SendsEverythingInBatchesOfMaxSamplesPerSend) {
  auto transport = std::make_unique<RecordingTransport>();
  RecordingTransport* t = transport.get();
  MetadataSender sender(Config(2), std::move(transport), [] { return Sample(); });
  EXPECT_EQ(sender.SendOnce(), 5u);
  auto requests = t->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].size(), 2u);
  EXPECT_EQ(requests[2].size(), 1u);
  std::vector<MetricMetadata> all;
  for (auto& r : requests) all.insert(all.end(), r.begin(), r.end());
  EXPECT_EQ(all, Sample());
}

TEST(MetadataSenderTest, RetriesServerErrorsAndDropsRefusals) {
  {
    auto transport = std::make_unique<RecordingTransport>(std::vector<int>{503, 500});
    RecordingTransport* t = transport.get();
    MetadataSender sender(Config(500), std::move(transport), [] { return Sample(); });
    EXPECT_EQ(sender.SendOnce(), 5u);
    EXPECT_EQ(t->calls(), 3u);
  }
  auto transport = std::make_unique<RecordingTransport>(std::vector<int>{400});
  RecordingTransport* t = transport.get();
  MetadataSender sender(Config(500), std::move(transport), [] { return Sample(); });
  EXPECT_EQ(sender.SendOnce(), 0u);
  EXPECT_EQ(t->calls(), 1u);
}

TEST(MetadataSenderTest, SendsEveryIntervalUntilStopped) {
  auto transport = std::make_unique<RecordingTransport>();
  RecordingTransport* t = transport.get();
  EndpointConfig c = Config(500);
  c.metadata.send_interval = std::chrono::milliseconds(20);
  MetadataSender sender(c, std::move(transport), [] { return Sample(); });
  sender.Start();
  EXPECT_TRUE(shardwise::testing::WaitFor([&] { return t->requests().size() >= 3; },
                                          std::chrono::seconds(10)));
  sender.Stop();
  size_t after_stop = t->calls();
  EXPECT_EQ(t->calls(), after_stop);
}

TEST(MetadataSenderTest, SendFalseNeverSends) {
  auto transport = std::make_unique<RecordingTransport>();
  RecordingTransport* t = transport.get();
  EndpointConfig c = Config(500);
  c.metadata.send = false;
  c.metadata.send_interval = std::chrono::milliseconds(1);
  MetadataSender sender(c, std::move(transport), [] { return Sample(); });
  sender.Start();
  sender.Stop();
  EXPECT_EQ(t->calls(), 0u);
}

}  // namespace
}  // namespace shardwise::remotewrite
