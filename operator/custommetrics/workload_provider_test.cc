// The workload provider over real scraper TSDB APIs (two shards on loopback, one shard that
// never answers): discovery from prometheus-adapter's walkthrough rule unchanged, Pods,
// Namespace and External values, fetching only from the shards that scrape the pods, caching,
// and a clear error within the deadline for a dead shard.
#include "operator/custommetrics/workload_provider.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "common/http/server.h"
#include "common/testing/local_process.h"
#include "common/testing/test_util.h"
#include "scraper/tsdb/api/handlers.h"
#include "scraper/tsdb/db.h"

namespace shardwise::custommetrics {
namespace {

constexpr int64_t kBase = 1'700'000'000'000;

// A scraper's TSDB with its HTTP API.
struct FakeShard {
  testing::TempDir dir;
  std::unique_ptr<tsdb::DB> db;
  std::unique_ptr<http::Server> server;

  // Counter series per pod: `per_10s` added every 10 s from kBase to kBase + 120 s.
  void Start(const std::vector<std::pair<Labels, double>>& counters) {
    tsdb::DBOptions o;
    o.retention_interval = std::chrono::milliseconds(0);
    auto opened = tsdb::DB::Open(dir.path() + "/db", o);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    db = std::move(opened).value();
    std::vector<storage::SeriesRef> refs(counters.size(), 0);
    for (int k = 0; k <= 12; ++k) {
      auto app = db->NewAppender();
      for (size_t i = 0; i < counters.size(); ++i) {
        ASSERT_TRUE(
            app->Append(refs[i], counters[i].first, kBase + k * 10000, counters[i].second * k)
                .ok());
      }
      ASSERT_TRUE(app->Commit().ok());
    }
    server = std::make_unique<http::Server>(http::Server::Options{.listen_address = "127.0.0.1:0"});
    tsdb::api::RegisterHttpHandlers(*server, *db);
    ASSERT_TRUE(server->Start().ok());
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
};

class StaticDirectory : public ShardDirectory {
 public:
  std::vector<ShardInfo> shards;
  std::vector<ShardInfo> Shards() const override { return shards; }
};

Labels Pod(const std::string& ns, const std::string& pod) {
  return Labels{{"__name__", "http_requests_total"},
                {"kubernetes_namespace", ns},
                {"kubernetes_pod_name", pod},
                {"method", "GET"}};
}
Labels Target(const std::string& ns, const std::string& pod) {
  return Labels{{"job", "web"}, {"kubernetes_namespace", ns}, {"kubernetes_pod_name", pod}};
}

class WorkloadProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_.Start({{Pod("default", "web-1"), 5}, {Pod("default", "web-2"), 10}});
    b_.Start({{Pod("shop", "cart-1"), 1},
              {Labels{{"__name__", "queue_messages_ready"}, {"queue", "orders"}}, 2}});
    dir_.shards = {
        {"ns/main/0", {a_.url()}, {Target("default", "web-1"), Target("default", "web-2")}},
        {"ns/main/1",
         {b_.url()},
         {Target("shop", "cart-1"), Labels{{"job", "queues"},
                                           {"kubernetes_namespace", "shop"},
                                           {"kubernetes_pod_name", "mq-1"},
                                           {"queue", "orders"}}}},
        {"ns/main/2", {silent_.url()}, {Target("stuck", "frozen-1")}},
    };
    fanout_ = std::make_unique<ShardFanout>(&dir_, &client_,
                                            ShardFanout::Options{std::chrono::milliseconds(700)});
  }

  std::unique_ptr<WorkloadMetricsProvider> Provider(
      AdapterConfig config,
      std::function<std::optional<Result<AdapterConfig>>()> reload_rules = nullptr) {
    auto lister = [](const GroupResource& gr, const std::string& ns,
                     const opdiscovery::LabelSelector& sel) -> Result<std::vector<std::string>> {
      EXPECT_EQ(gr.resource, "pods");
      if (ns != "default") return std::vector<std::string>{};
      if (sel.match_labels.count("app") && sel.match_labels.at("app") == "web") {
        return std::vector<std::string>{"web-1", "web-2"};
      }
      return std::vector<std::string>{};
    };
    WorkloadMetricsProvider::Options o;
    o.cache_ttl = std::chrono::seconds(15);
    o.relist_interval = std::chrono::milliseconds(50);
    o.reload_rules = std::move(reload_rules);
    return std::make_unique<WorkloadMetricsProvider>(std::move(config), fanout_.get(), lister, o,
                                                     [this] { return now_; });
  }

  FakeShard a_, b_;
  shardwise::testing::SilentListener silent_;
  StaticDirectory dir_;
  http::Client client_;
  std::unique_ptr<ShardFanout> fanout_;
  Clock::time_point now_{std::chrono::milliseconds(kBase + 120000)};
};

TEST_F(WorkloadProviderTest, WalkthroughRuleServesPodsAndNamespaces) {
  // prometheus-adapter docs/config-walkthrough.md, "Per-pod HTTP Requests", unchanged.
  auto config =
      LoadAdapterConfig(std::string(SHARDWISE_CUSTOMMETRICS_TESTDATA) + "/config_walkthrough.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto p = Provider(std::move(config).value());
  // Discovery asks the shards whose targets may carry both labels: all three. The silent
  // shard is reported; what the others hold is listed.
  Status relist = p->Relist();
  EXPECT_FALSE(relist.ok());
  EXPECT_NE(relist.message().find("ns/main/2"), std::string::npos) << relist.ToString();
  auto infos = p->ListMetrics();
  EXPECT_NE(
      std::find(infos.begin(), infos.end(), MetricInfo{"pods", "http_requests_per_second", true}),
      infos.end());
  EXPECT_NE(std::find(infos.begin(), infos.end(),
                      MetricInfo{"namespaces", "http_requests_per_second", false}),
            infos.end());

  // One pod: sum(rate(...[2m])) by (kubernetes_pod_name) = 5 per 10 s = 0.5/s, from shard 0
  // alone.
  uint64_t before = fanout_->shard_requests();
  auto v = p->GetMetric({"pods", "default", "web-1", "http_requests_per_second", {}, {}});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->size(), 1u);
  EXPECT_EQ((*v)[0].object.kind, "Pod");
  EXPECT_EQ((*v)[0].object.name, "web-1");
  EXPECT_EQ((*v)[0].object.ns, "default");
  EXPECT_EQ((*v)[0].milli_value, 500);
  EXPECT_EQ((*v)[0].window_seconds, 120);
  EXPECT_EQ(fanout_->shard_requests() - before, 1u);

  // Every pod the selector picks, one evaluation; asked again within the cache TTL: none.
  MetricQuery all{"pods", "default", "*", "http_requests_per_second", {}, {}};
  all.selector.match_labels["app"] = "web";
  before = fanout_->shard_requests();
  auto both = p->GetMetric(all);
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  ASSERT_EQ(both->size(), 2u);
  EXPECT_EQ((*both)[0].milli_value, 500);
  EXPECT_EQ((*both)[1].object.name, "web-2");
  EXPECT_EQ((*both)[1].milli_value, 1000);
  EXPECT_EQ(fanout_->shard_requests() - before, 1u);
  ASSERT_TRUE(p->GetMetric(all).ok());
  EXPECT_EQ(fanout_->shard_requests() - before, 1u);

  // The namespace metric (adapter path /namespaces/NS/metrics/METRIC) from shard 1 alone.
  before = fanout_->shard_requests();
  auto ns = p->GetMetric({"namespaces", "", "shop", "http_requests_per_second", {}, {}});
  ASSERT_TRUE(ns.ok()) << ns.status().ToString();
  ASSERT_EQ(ns->size(), 1u);
  EXPECT_EQ((*ns)[0].object.kind, "Namespace");
  EXPECT_EQ((*ns)[0].milli_value, 100);
  EXPECT_EQ(fanout_->shard_requests() - before, 1u);

  // A pod without samples: NotFound naming the query.
  auto none = p->GetMetric({"pods", "default", "web-9", "http_requests_per_second", {}, {}});
  EXPECT_EQ(none.status().code(), Status::Code::kNotFound) << none.status().ToString();

  // The hung shard scrapes "stuck": a clear error naming it, within the deadline.
  auto start = std::chrono::steady_clock::now();
  auto stuck = p->GetMetric({"pods", "stuck", "frozen-1", "http_requests_per_second", {}, {}});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(stuck.ok());
  EXPECT_NE(stuck.status().message().find("ns/main/2"), std::string::npos)
      << stuck.status().ToString();
  EXPECT_TRUE(stuck.status().code() == Status::Code::kDeadlineExceeded ||
              stuck.status().code() == Status::Code::kUnavailable)
      << stuck.status().ToString();
  EXPECT_LT(took, std::chrono::seconds(5));
}

// The walkthrough rule with another `name.as`.
AdapterConfig WalkthroughAs(const std::string& as) {
  std::ifstream in(std::string(SHARDWISE_CUSTOMMETRICS_TESTDATA) + "/config_walkthrough.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string yaml = ss.str();
  yaml.replace(yaml.find("${1}_per_second"), std::string("${1}_per_second").size(), as);
  auto config = ParseAdapterConfig(yaml);
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return config.ok() ? std::move(config).value() : AdapterConfig{};
}

bool Lists(const WorkloadMetricsProvider& p, const std::string& metric) {
  auto infos = p.ListMetrics();
  return std::find(infos.begin(), infos.end(), MetricInfo{"pods", metric, true}) != infos.end();
}

TEST_F(WorkloadProviderTest, ReloadedRulesAreServedWithoutARestart) {
  auto p = Provider(WalkthroughAs("${1}_per_second"));
  p->Relist();
  ASSERT_TRUE(Lists(*p, "http_requests_per_second"));

  p->Reload(WalkthroughAs("${1}_rate"));
  EXPECT_TRUE(Lists(*p, "http_requests_rate"));
  EXPECT_FALSE(Lists(*p, "http_requests_per_second"));
  auto v = p->GetMetric({"pods", "default", "web-1", "http_requests_rate", {}, {}});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->size(), 1u);
  EXPECT_EQ((*v)[0].milli_value, 500);
  auto old = p->GetMetric({"pods", "default", "web-1", "http_requests_per_second", {}, {}});
  EXPECT_EQ(old.status().code(), Status::Code::kNotFound) << old.status().ToString();
}

TEST_F(WorkloadProviderTest, TheDiscoveryLoopFollowsTheRulesSource) {
  // What a RulesFile hands over: new rules once, then a file that does not load, then nothing.
  std::mutex mu;
  std::vector<std::optional<Result<AdapterConfig>>> changes;
  changes.emplace_back(WalkthroughAs("${1}_rate"));
  changes.emplace_back(Result<AdapterConfig>(Status::InvalidArgument("config.yaml: broken")));
  auto p = Provider(WalkthroughAs("${1}_per_second"), [&]() {
    std::lock_guard lock(mu);
    if (changes.empty()) return std::optional<Result<AdapterConfig>>();
    auto next = std::move(changes.front());
    changes.erase(changes.begin());
    return next;
  });
  p->Start();
  // The broken file comes after the good one: the good rules stay in use.
  EXPECT_TRUE(testing::WaitFor([&] {
    std::lock_guard lock(mu);
    return changes.empty();
  }));
  EXPECT_TRUE(testing::WaitFor([&] { return Lists(*p, "http_requests_rate"); }));
  p->Stop();
  EXPECT_TRUE(Lists(*p, "http_requests_rate"));
  EXPECT_FALSE(Lists(*p, "http_requests_per_second"));
}

TEST_F(WorkloadProviderTest, ExternalRules) {
  auto config = ParseAdapterConfig(R"(
externalRules:
- seriesQuery: '{__name__=~"^queue_.*"}'
  resources: {namespaced: false}
  name: {matches: "^queue_(.*)$", as: "${1}_per_second"}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (queue)'
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto p = Provider(std::move(config).value());
  // The seriesQuery has no label a target carries: every shard may hold it, the silent one
  // too; the metric is still listed from the others.
  EXPECT_FALSE(p->Relist().ok());
  EXPECT_EQ(p->ListExternalMetrics(), std::vector<std::string>{"messages_ready_per_second"});
  opdiscovery::LabelSelector sel;
  sel.match_labels["queue"] = "orders";
  // queue="orders" cannot rule out shards whose targets have no "queue" label (the metric
  // may bring it): the silent shard is asked, and its error is the answer.
  auto v = p->GetExternalMetric("default", "messages_ready_per_second", sel);
  ASSERT_FALSE(v.ok());
  dir_.shards.pop_back();  // the hung scraper is gone from the plans
  v = p->GetExternalMetric("default", "messages_ready_per_second", sel);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->size(), 1u);
  EXPECT_EQ((*v)[0].labels.at("queue"), "orders");
  EXPECT_EQ((*v)[0].milli_value, 200);
  EXPECT_EQ((*v)[0].window_seconds, 60);
  auto missing = p->GetExternalMetric("default", "nope", sel);
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
}

TEST_F(WorkloadProviderTest, ObjectMetricsThroughTheResourceTemplate) {
  // resources.template maps every label named like a resource: kubernetes_pod_name is not
  // one, kubernetes_namespace neither; so series get a "service" label of their own here.
  FakeShard c;
  c.Start({{Labels{{"__name__", "queue_depth"},
                   {"namespace", "default"},
                   {"service", "checkout"},
                   {"pod", "checkout-1"}},
            3}});
  dir_.shards = {{"ns/main/0",
                  {c.url()},
                  {Labels{{"job", "checkout"},
                          {"namespace", "default"},
                          {"service", "checkout"},
                          {"pod", "checkout-1"}}}}};
  auto config = ParseAdapterConfig(R"(
rules:
- seriesQuery: '{__name__="queue_depth",namespace!=""}'
  resources: {template: "<<.Resource>>"}
  metricsQuery: 'max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto p = Provider(std::move(config).value());
  ASSERT_TRUE(p->Relist().ok());
  auto infos = p->ListMetrics();
  for (const char* r : {"services", "pods", "namespaces"}) {
    EXPECT_NE(std::find_if(infos.begin(), infos.end(),
                           [&](const MetricInfo& m) {
                             return m.resource == r && m.metric == "queue_depth";
                           }),
              infos.end())
        << r;
  }
  auto v = p->GetMetric({"services", "default", "checkout", "queue_depth", {}, {}});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->size(), 1u);
  EXPECT_EQ((*v)[0].object.kind, "Service");
  EXPECT_EQ((*v)[0].object.api_version, "/v1");
  EXPECT_EQ((*v)[0].milli_value, 36000) << "the counter's last value, 3 x 12";
  EXPECT_EQ((*v)[0].window_seconds, 0) << "no range in the query";
}

TEST(CheckMetricsQueries, NamesTheRuleOutsideTheSubset) {
  auto good = ParseAdapterConfig(R"(
rules:
- seriesQuery: 'a_total{namespace!=""}'
  resources: {template: "<<.Resource>>"}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'
)");
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_TRUE(CheckMetricsQueries(*good).ok());
  auto bad = ParseAdapterConfig(R"yaml(
rules:
- seriesQuery: 'a_total{namespace!=""}'
  resources: {template: "<<.Resource>>"}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'
externalRules:
- seriesQuery: 'b{namespace!=""}'
  metricsQuery: 'label_replace(<<.Series>>{<<.LabelMatchers>>}, "x", "$1", "y", "(.*)")'
)yaml");
  ASSERT_TRUE(bad.ok()) << bad.status().ToString();
  Status s = CheckMetricsQueries(*bad);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("externalRules[0]"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("label_replace"), std::string::npos) << s.ToString();
}

TEST(ManifestConfig, TheShippedRulesLoad) {
  // manifests/custom-metrics-config.yaml: the operator exits when its rules do not load.
  auto cm = YAML::LoadFile(std::string(SHARDWISE_CUSTOMMETRICS_TESTDATA) +
                           "/../../../manifests/custom-metrics-config.yaml");
  auto config = ParseAdapterConfig(cm["data"]["config.yaml"].as<std::string>());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->rules.size(), 1u);
  EXPECT_EQ(config->rules[0].MetricName("http_requests_total"), "http_requests_per_second");
  EXPECT_TRUE(CheckMetricsQueries(*config).ok());
}

TEST(SelectorMatchers, AsTheAdapterWritesThem) {
  opdiscovery::LabelSelector sel;
  sel.match_labels["a"] = "x";
  sel.match_expressions = {{"b", "In", {"1", "2"}},
                           {"c", "NotIn", {"3"}},
                           {"d", "Exists", {}},
                           {"e", "DoesNotExist", {}},
                           {"f", "NotIn", {"4", "5"}}};
  EXPECT_EQ(SelectorMatchers(sel), (std::vector<std::string>{"a=\"x\"", "b=~\"1|2\"", "c!=\"3\"",
                                                             "d!=\"\"", "e=\"\"", "f!~\"4|5\""}));
}

}  // namespace
}  // namespace shardwise::custommetrics
