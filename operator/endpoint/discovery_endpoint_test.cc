#include "operator/endpoint/discovery_endpoint.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "common/http/client.h"
#include "operator/endpoint/report_validation.h"

namespace shardwise::endpoint {
namespace {

using namespace std::chrono_literals;

plan::ScrapePlan PlanWith(std::vector<std::string> addresses) {
  plan::ScrapePlan p;
  p.pool_namespace = "mon";
  p.pool = "main";
  p.shard = 1;
  for (size_t i = 0; i < addresses.size(); ++i) {
    plan::Target t;
    t.id = i + 1;
    t.job = "j";
    t.address = addresses[i];
    t.labels = Labels{{"job", "j"}, {"instance", addresses[i]}};
    p.targets.push_back(t);
  }
  return p;
}

class DiscoveryEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_.Register(server_);
    ASSERT_TRUE(server_.Start().ok());
    base_ = "http://" + server_.address();
  }
  const ShardKey key_{"mon", "main", 1, 0};
  const std::string pod_url_ = "/api/v1/plans/mon/shardwise-main-0-1";
  PlanStore plans_;
  ReportStore reports_;
  DiscoveryEndpoint endpoint_{plans_, reports_};
  http::Server server_{{}};
  http::Client client_;
  std::string base_;
};

TEST_F(DiscoveryEndpointTest, PodNamesRoundTrip) {
  EXPECT_EQ(PodName("main-2", 3, 1), "shardwise-main-2-1-3");
  auto k = ParsePodName("ns", "shardwise-main-2-1-3");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->pool, "main-2");
  EXPECT_EQ(k->replica, 1);
  EXPECT_EQ(k->shard, 3);
  EXPECT_FALSE(ParsePodName("ns", "shardwise-x"));
  EXPECT_FALSE(ParsePodName("ns", "web-0"));
}

TEST_F(DiscoveryEndpointTest, ServesPlanWithEtagAndConditionalGet) {
  EXPECT_EQ(client_.DoSync({.url = base_ + pod_url_})->status, 404);
  uint64_t gen = plans_.Publish(key_, PlanWith({"a:1"}));
  auto r = client_.DoSync({.url = base_ + pod_url_});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("ETag"), "\"" + std::to_string(gen) + "\"");
  auto p = plan::PlanFromJson(nlohmann::json::parse(r->body));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->targets.size(), 1u);
  // Republishing the same content keeps the generation: the conditional GET stays 304.
  EXPECT_EQ(plans_.Publish(key_, PlanWith({"a:1"})), gen);
  auto same = client_.DoSync(
      {.url = base_ + pod_url_, .headers = {{"If-None-Match", std::string(r->Header("ETag"))}}});
  EXPECT_EQ(same->status, 304);
}

TEST_F(DiscoveryEndpointTest, LongPollReturnsOnChange) {
  uint64_t gen = plans_.Publish(key_, PlanWith({"a:1"}));
  std::promise<Result<http::ClientResponse>> got;
  client_.Do({.url = base_ + pod_url_ + "?wait=30s",
              .headers = {{"If-None-Match", "\"" + std::to_string(gen) + "\""}},
              .timeout = 20000ms},
             [&](Result<http::ClientResponse> r) { got.set_value(std::move(r)); });
  auto fut = got.get_future();
  // The request must still be waiting: nothing changed.
  EXPECT_EQ(fut.wait_for(300ms), std::future_status::timeout);
  uint64_t gen2 = plans_.Publish(key_, PlanWith({"a:1", "b:2"}));
  ASSERT_EQ(fut.wait_for(10s), std::future_status::ready);
  auto r = fut.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("ETag"), "\"" + std::to_string(gen2) + "\"");
  EXPECT_GT(gen2, gen);
}

TEST_F(DiscoveryEndpointTest, LongPollTimesOutWith304) {
  uint64_t gen = plans_.Publish(key_, PlanWith({"a:1"}));
  auto r = client_.DoSync({.url = base_ + pod_url_ + "?wait=300ms",
                           .headers = {{"If-None-Match", "\"" + std::to_string(gen) + "\""}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 304);
}

TEST_F(DiscoveryEndpointTest, HttpSdView) {
  plans_.Publish(key_, PlanWith({"a:1", "b:2"}));
  auto r = client_.DoSync({.url = base_ + "/api/v1/http_sd/mon/main/1"});
  ASSERT_EQ(r->status, 200);
  auto j = nlohmann::json::parse(r->body);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1]["targets"][0], "b:2");
  EXPECT_EQ(j[1]["labels"]["__metrics_path__"], "/metrics");
  EXPECT_EQ(
      nlohmann::json::parse(client_.DoSync({.url = base_ + "/api/v1/http_sd/mon/main/7"})->body),
      nlohmann::json::array());
}

TEST_F(DiscoveryEndpointTest, ReportsAreStoredAndBadOnesRejected) {
  reports_.SetAdmission([](const ShardKey& k) { return k.pool == "main" && k.shard < 2; });
  std::atomic<int> notified{0};
  reports_.OnReport([&](const ShardKey&) { ++notified; });
  plan::LoadReport rep;
  rep.pod = "shardwise-main-0-1";
  rep.shard = 1;
  rep.active_series = 42;
  auto r = client_.DoSync({.method = "POST",
                           .url = base_ + "/api/v1/reports/mon/shardwise-main-0-1",
                           .body = plan::ToJson(rep).dump()});
  ASSERT_EQ(r->status, 204);
  auto stored = reports_.Get(key_);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->report.active_series, 42);
  EXPECT_EQ(notified.load(), 1);
  auto bad = client_.DoSync({.method = "POST",
                             .url = base_ + "/api/v1/reports/mon/shardwise-main-0-1",
                             .body = "{\"kind\":\"LoadReport\"}"});
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("pod"), std::string::npos);
}

TEST_F(DiscoveryEndpointTest, ReportStoreIsBoundedAndValidatesValues) {
  auto post = [&](const std::string& pod, const plan::LoadReport& rep) {
    return client_
        .DoSync({.method = "POST",
                 .url = base_ + "/api/v1/reports/mon/" + pod,
                 .body = plan::ToJson(rep).dump()})
        ->status;
  };
  plan::LoadReport rep;
  rep.pod = "shardwise-main-0-1";
  rep.shard = 1;
  // Nothing is admitted before the controller says which shards exist.
  EXPECT_EQ(post(rep.pod, rep), 404);
  reports_.SetAdmission([](const ShardKey& k) {
    return k.ns == "mon" && k.pool == "main" && k.shard < 2 && k.replica == 0;
  });
  EXPECT_EQ(post(rep.pod, rep), 204);
  // Made-up names and unknown shards or replicas are not stored.
  plan::LoadReport other = rep;
  other.pod = "shardwise-made-up-0-0";
  other.shard = 0;
  EXPECT_EQ(post(other.pod, other), 404);
  other.pod = "shardwise-main-0-7";
  other.shard = 7;
  EXPECT_EQ(post(other.pod, other), 404);
  other.pod = "shardwise-main-1-1";
  other.shard = 1;
  other.replica = 1;
  EXPECT_EQ(post(other.pod, other), 404);
  EXPECT_EQ(reports_.size(), 1u);

  // Values no scraper produces are rejected, and the stored report stays.
  plan::LoadReport huge = rep;
  huge.per_target.push_back({.id = 1, .series = 1e9});
  huge.targets = 1;
  EXPECT_EQ(post(rep.pod, huge), 400);
  plan::LoadReport negative = rep;
  negative.samples_per_second = -1;
  EXPECT_EQ(post(rep.pod, negative), 400);
  plan::LoadReport wrong_pod = rep;
  wrong_pod.pod = "shardwise-main-0-0";
  EXPECT_EQ(post(rep.pod, wrong_pod), 400);
  plan::LoadReport unsorted = rep;
  unsorted.per_target = {{.id = 2, .series = 1}, {.id = 1, .series = 1}};
  unsorted.targets = 2;
  EXPECT_EQ(post(rep.pod, unsorted), 400);
  std::string big(kMaxReportBytes + 1, ' ');
  EXPECT_EQ(
      client_
          .DoSync({.method = "POST", .url = base_ + "/api/v1/reports/mon/" + rep.pod, .body = big})
          ->status,
      413);
  EXPECT_TRUE(reports_.Get(key_)->report.per_target.empty());

  // Entries go with their shards.
  reports_.RetainOnly("mon", "main", [](const ShardKey& k) { return k.shard != 1; });
  EXPECT_EQ(reports_.size(), 0u);
}

}  // namespace
}  // namespace shardwise::endpoint
