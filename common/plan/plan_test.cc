#include "common/plan/plan.h"

#include <gtest/gtest.h>

namespace shardwise::plan {
namespace {

ScrapePlan SamplePlan() {
  ScrapePlan p;
  p.pool_namespace = "monitoring";
  p.pool = "main";
  p.shard = 2;
  p.generation = 7;
  p.external_labels = Labels{{"cluster", "c1"}};
  p.remote_write = nlohmann::json::array(
      {{{"url", "http://vm:8428/api/v1/write"}, {"queue_config", {{"capacity", "100"}}}}});
  Target t;
  t.id = 0xfedcba9876543210ULL;  // above 2^53: must survive JSON
  t.job = "serviceMonitor/default/web/0";
  t.labels = Labels{{"job", "web"}, {"instance", "10.0.0.1:8080"}, {"namespace", "default"}};
  t.address = "10.0.0.1:8080";
  t.params = {{"module", {"http_2xx"}}};
  t.interval = std::chrono::milliseconds(15000);
  t.sample_limit = 1000;
  t.metric_relabelings = nlohmann::json::array(
      {{{"action", "drop"}, {"regex", "go_.*"}, {"sourceLabels", {"__name__"}}}});
  t.auth = AuthConfig{"tok", "", ""};
  t.handoff = Handoff::kOutgoing;
  p.targets.push_back(t);
  return p;
}

TEST(PlanTest, JsonRoundTrip) {
  ScrapePlan p = SamplePlan();
  auto back = PlanFromJson(nlohmann::json::parse(ToJson(p).dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, p);
  EXPECT_EQ(p.targets[0].Url(), "http://10.0.0.1:8080/metrics?module=http_2xx");
  // Without remoteWrite (an older operator): the scraper keeps its own endpoints.
  p.remote_write.reset();
  auto without = PlanFromJson(nlohmann::json::parse(ToJson(p).dump()));
  ASSERT_TRUE(without.ok());
  EXPECT_FALSE(without->remote_write.has_value());
}

TEST(PlanTest, RejectsBadDocumentsWithPath) {
  nlohmann::json j = ToJson(SamplePlan());
  j["targets"][0]["interval"] = "15 seconds";
  auto r = PlanFromJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("targets[0].interval"), std::string::npos)
      << r.status().message();
  j = ToJson(SamplePlan());
  j["targets"][0]["handoff"] = "sideways";
  EXPECT_FALSE(PlanFromJson(j).ok());
  EXPECT_FALSE(PlanFromJson(nlohmann::json::object()).ok());
}

// Found by fuzz/plan_fuzz: a non-string kind made json::value throw out of the reader, and
// numbers outside a field's type were cast (undefined behaviour) or wrapped.
TEST(PlanTest, RejectsWrongTypesWithoutThrowing) {
  for (const char* kind : {"1", "null", "[]", "{}", "true"}) {
    const auto j = nlohmann::json::parse(std::string(R"({"kind":)") + kind + "}");
    EXPECT_FALSE(PlanFromJson(j).ok()) << kind;
    EXPECT_FALSE(ReportFromJson(j).ok()) << kind;
  }
  for (const char* shard : {"1e30", "-1e300", "1.5", "4294967296", "true", "\"1\""}) {
    nlohmann::json j = ToJson(SamplePlan());
    j["shard"] = nlohmann::json::parse(shard);
    auto r = PlanFromJson(j);
    ASSERT_FALSE(r.ok()) << shard;
    EXPECT_NE(r.status().message().find("plan.shard"), std::string::npos) << r.status().message();
  }
  nlohmann::json j = ToJson(SamplePlan());
  j["targets"][0]["sampleLimit"] = -1;
  EXPECT_FALSE(PlanFromJson(j).ok()) << "negative limits do not wrap";
  j["targets"][0]["sampleLimit"] = 18446744073709551615u;
  ASSERT_TRUE(PlanFromJson(j).ok());
  EXPECT_EQ(PlanFromJson(j)->targets[0].sample_limit, 18446744073709551615u);
}

// `released` (targets moved away recently) is optional both ways: a plan without it (an
// older operator) parses to an empty list, and an older scraper ignores the unknown key.
TEST(PlanTest, ReleasedTargetsRoundTripAndAreOptional) {
  ScrapePlan p = SamplePlan();
  p.released = {0x1ULL, 0xfedcba9876543211ULL};
  nlohmann::json j = ToJson(p);
  ASSERT_TRUE(j.contains("released"));
  EXPECT_EQ(j["released"][1], "fedcba9876543211");
  auto back = PlanFromJson(nlohmann::json::parse(j.dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, p);

  // Unordered and repeated ids come back sorted and unique.
  j["released"] = {"3", "1", "3"};
  back = PlanFromJson(j);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->released, (std::vector<uint64_t>{1, 3}));

  // Without the key: nothing released, and an empty list is not written at all.
  p.released.clear();
  j = ToJson(p);
  EXPECT_FALSE(j.contains("released"));
  back = PlanFromJson(j);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->released.empty());

  // Bad ids are an error naming the entry, not a crash.
  for (const char* bad : {R"("1")", R"(["xyz"])", R"([7])", R"([""])"}) {
    j = ToJson(SamplePlan());
    j["released"] = nlohmann::json::parse(bad);
    auto r = PlanFromJson(j);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("released"), std::string::npos) << r.status().message();
  }
}

TEST(PlanTest, HttpSdViewCarriesScrapeParameters) {
  auto sd = ToHttpSd(SamplePlan());
  ASSERT_EQ(sd.size(), 1u);
  EXPECT_EQ(sd[0]["targets"][0], "10.0.0.1:8080");
  EXPECT_EQ(sd[0]["labels"]["__scrape_interval__"], "15s");
  EXPECT_EQ(sd[0]["labels"]["__scrape_timeout__"], "10s");
  EXPECT_EQ(sd[0]["labels"]["__metrics_path__"], "/metrics");
  EXPECT_EQ(sd[0]["labels"]["__scheme__"], "http");
  EXPECT_EQ(sd[0]["labels"]["__param_module"], "http_2xx");
  EXPECT_EQ(sd[0]["labels"]["job"], "web");
}

TEST(PlanTest, ReportRoundTrip) {
  LoadReport r;
  r.pod = "pool-shard-1-0";
  r.shard = 1;
  r.plan_generation = 3;
  r.active_series = 1234;
  r.per_target.push_back({0xffffffffffffffffULL, 100, 1700000000123, ""});
  auto back = ReportFromJson(ToJson(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->per_target[0].id, 0xffffffffffffffffULL);
  EXPECT_EQ(back->per_target[0].last_success_unix_ms, 1700000000123);
  EXPECT_EQ(back->active_series, 1234);
}

}  // namespace
}  // namespace shardwise::plan
