#include "scraper/scrape/scrape_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "common/http/server.h"
#include "scraper/scrape/scrape_test_util.h"
#include "scraper/storage/memory_sink.h"

namespace shardwise::scrape {
namespace {

using storage::IsStaleNaN;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::WaitFor;

// Every target is this one server; targets differ by path (/a, /b, ...), each path
// exposing "<path>_metric 1".
class ScrapeManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Handle("/", http::Simple([this](const http::Request& r) {
                     ++hits_;
                     std::string name = r.path.substr(1) + "_metric";
                     return http::Response::Text(200, name + " 1\n");
                   }));
    ASSERT_TRUE(server_.Start().ok());
    address_ = server_.address();
  }
  void TearDown() override {
    manager_.Stop();
    server_.Stop();
  }

  Config MakeConfig(const std::string& jobs) {
    Result<Config> c = ParseConfig("scrape_configs: " + jobs);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }
  sd::TargetGroup Group(std::vector<std::pair<std::string, Labels>> targets) {
    sd::TargetGroup g;
    for (auto& [path, extra] : targets) {
      LabelsBuilder b(extra);
      b.Set("__address__", address_);
      b.Set("__metrics_path__", path);
      g.targets.push_back(b.Build());
    }
    return g;
  }
  uint64_t Hash(const std::string& job, const std::string& path) {
    return TargetHash(job, address_, path);
  }
  bool ScrapedOnce(const std::string& job, uint64_t hash) {
    auto loop = manager_.Loop(job, hash);
    return loop && loop->Snapshot().health == "up";
  }

  http::Server server_{{}};
  http::Client client_;
  storage::MemorySink sink_;
  ScrapeManager manager_{ScrapeManager::Options{}, sink_, client_};
  std::string address_;
  std::atomic<int> hits_{0};
};

constexpr const char* kJob = "[{job_name: j, scrape_interval: 50ms, scrape_timeout: 50ms}]";

TEST_F(ScrapeManagerTest, RefreshRestartsOnlyTheChangedTarget) {
  ASSERT_TRUE(manager_.ApplyConfig(MakeConfig(kJob)).ok());
  ASSERT_TRUE(
      manager_
          .UpdateTargets("j", "plan", {Group({{"/a", {}}, {"/b", {}}, {"/c", {{"team", "x"}}}})})
          .ok());
  EXPECT_EQ(manager_.LoopsStarted("j"), 3u);
  auto a = manager_.Loop("j", Hash("j", "/a"));
  auto b = manager_.Loop("j", Hash("j", "/b"));
  auto c = manager_.Loop("j", Hash("j", "/c"));
  ASSERT_TRUE(a && b && c);
  ASSERT_TRUE(WaitFor([&] { return ScrapedOnce("j", Hash("j", "/c")); }));

  // b changes labels, c disappears, d appears; a is untouched.
  ASSERT_TRUE(
      manager_
          .UpdateTargets("j", "plan", {Group({{"/a", {}}, {"/b", {{"team", "y"}}}, {"/d", {}}})})
          .ok());
  EXPECT_EQ(manager_.LoopsStarted("j"), 5u);  // b again, and d
  EXPECT_EQ(manager_.Loop("j", Hash("j", "/a")), a);
  auto b2 = manager_.Loop("j", Hash("j", "/b"));
  ASSERT_NE(b2, nullptr);
  EXPECT_NE(b2, b);
  EXPECT_EQ(b2->target().labels.Get("team"), "y");
  EXPECT_EQ(manager_.Loop("j", Hash("j", "/c")), nullptr);
  EXPECT_NE(manager_.Loop("j", Hash("j", "/d")), nullptr);

  // The removed target's series got staleness markers.
  auto c_metric = sink_.Samples(
      Labels{{"__name__", "c_metric"}, {"instance", address_}, {"job", "j"}, {"team", "x"}});
  ASSERT_FALSE(c_metric.empty());
  EXPECT_TRUE(IsStaleNaN(c_metric.back().v));

  // The same groups again change nothing.
  ASSERT_TRUE(
      manager_
          .UpdateTargets("j", "plan", {Group({{"/a", {}}, {"/b", {{"team", "y"}}}, {"/d", {}}})})
          .ok());
  EXPECT_EQ(manager_.LoopsStarted("j"), 5u);
}

TEST_F(ScrapeManagerTest, HandoffStopsWithoutStalenessMarkers) {
  ASSERT_TRUE(manager_.ApplyConfig(MakeConfig(kJob)).ok());
  ASSERT_TRUE(manager_.UpdateTargets("j", "plan", {Group({{"/h", {}}})}).ok());
  ASSERT_TRUE(WaitFor([&] { return ScrapedOnce("j", Hash("j", "/h")); }));
  manager_.MarkHandoff(Hash("j", "/h"));
  ASSERT_TRUE(manager_.UpdateTargets("j", "plan", {}).ok());
  EXPECT_EQ(manager_.Loop("j", Hash("j", "/h")), nullptr);
  for (const auto& [labels, samples] : sink_.Series()) {
    for (const auto& s : samples) EXPECT_FALSE(IsStaleNaN(s.v)) << labels.ToString();
  }
}

TEST_F(ScrapeManagerTest, StopWritesNoStalenessMarkers) {
  // Prometheus writes none at shutdown: a restarted scraper, or the shard taking over,
  // continues the series.
  ASSERT_TRUE(manager_.ApplyConfig(MakeConfig(kJob)).ok());
  ASSERT_TRUE(manager_.UpdateTargets("j", "plan", {Group({{"/h", {}}})}).ok());
  ASSERT_TRUE(WaitFor([&] { return ScrapedOnce("j", Hash("j", "/h")); }));
  manager_.Stop();
  ASSERT_FALSE(sink_.Series().empty());
  for (const auto& [labels, samples] : sink_.Series()) {
    for (const auto& s : samples) EXPECT_FALSE(IsStaleNaN(s.v)) << labels.ToString();
  }
}

TEST_F(ScrapeManagerTest, ReapplyingTheSameConfigKeepsLoops) {
  std::string jobs =
      "[{job_name: s, scrape_interval: 1s, static_configs: [{targets: ['" + address_ + "']}]}]";
  ASSERT_TRUE(manager_.ApplyConfig(MakeConfig(jobs)).ok());
  EXPECT_EQ(manager_.LoopsStarted("s"), 1u);
  ASSERT_TRUE(manager_.ApplyConfig(MakeConfig(jobs)).ok());
  EXPECT_EQ(manager_.LoopsStarted("s"), 1u);
  // A target pushed from outside survives a reload of its job.
  ASSERT_TRUE(manager_.UpdateTargets("s", "plan", {Group({{"/p", {}}})}).ok());
  EXPECT_EQ(manager_.LoopsStarted("s"), 2u);
  // A new static target starts one loop and leaves the others alone.
  auto first = manager_.Loop("s", Hash("s", "/metrics"));
  ASSERT_NE(first, nullptr);
  std::string more = "[{job_name: s, scrape_interval: 1s, static_configs: [{targets: ['" +
                     address_ + "']}, {targets: ['" + address_ +
                     "'], labels: {__metrics_path__: /more}}]}]";
  ASSERT_TRUE(manager_.ApplyConfig(MakeConfig(more)).ok());
  EXPECT_EQ(manager_.LoopsStarted("s"), 3u);
  EXPECT_EQ(manager_.Loop("s", Hash("s", "/metrics")), first);
  EXPECT_NE(manager_.Loop("s", Hash("s", "/p")), nullptr);
  // Changed scrape settings restart the job's loops.
  std::string changed =
      "[{job_name: s, scrape_interval: 1s, sample_limit: 10, "
      "static_configs: [{targets: ['" +
      address_ + "']}]}]";
  ASSERT_TRUE(manager_.ApplyConfig(MakeConfig(changed)).ok());
  EXPECT_EQ(manager_.LoopsStarted("s"), 5u);  // /metrics and /p again; /more is gone
  EXPECT_EQ(manager_.Loop("s", Hash("s", "/more")), nullptr);
  EXPECT_NE(manager_.Loop("s", Hash("s", "/p")), nullptr);
  // Removing the job stops it.
  ASSERT_TRUE(manager_.ApplyConfig(MakeConfig("[]")).ok());
  EXPECT_TRUE(manager_.ActiveTargets().empty());
  EXPECT_EQ(manager_.UpdateTargets("s", "plan", {}).code(), Status::Code::kNotFound);
}

TEST_F(ScrapeManagerTest, FileSdTargetsAreScraped) {
  TempDir dir;
  dir.File("t.json", "[{\"targets\": [\"" + address_ + "\"], \"labels\": {\"src\": \"file\"}}]");
  std::string jobs =
      "[{job_name: f, scrape_interval: 50ms, scrape_timeout: 50ms, "
      "metrics_path: /f, file_sd_configs: [{files: ['" +
      dir.path() + "/*.json']}]}]";
  ASSERT_TRUE(manager_.ApplyConfig(MakeConfig(jobs)).ok());
  Labels series{{"__name__", "f_metric"}, {"instance", address_}, {"job", "f"}, {"src", "file"}};
  ASSERT_TRUE(WaitFor([&] { return !sink_.Samples(series).empty(); }));
}

TEST_F(ScrapeManagerTest, TargetsJsonLooksLikePrometheus) {
  std::string jobs =
      "[{job_name: t, scrape_interval: 50ms, scrape_timeout: 50ms, "
      "relabel_configs: [{source_labels: [skip], regex: 'yes', action: drop}]}]";
  ASSERT_TRUE(manager_.ApplyConfig(MakeConfig(jobs)).ok());
  ASSERT_TRUE(
      manager_.UpdateTargets("t", "plan", {Group({{"/x", {}}, {"/y", {{"skip", "yes"}}}})}).ok());
  ASSERT_TRUE(WaitFor([&] { return ScrapedOnce("t", Hash("t", "/x")); }));
  auto doc = nlohmann::json::parse(manager_.TargetsJson());
  EXPECT_EQ(doc["status"], "success");
  const auto& active = doc["data"]["activeTargets"];
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0]["health"], "up");
  EXPECT_EQ(active[0]["scrapePool"], "t");
  EXPECT_EQ(active[0]["scrapeUrl"], "http://" + address_ + "/x");
  EXPECT_EQ(active[0]["labels"]["job"], "t");
  EXPECT_EQ(active[0]["discoveredLabels"]["__metrics_path__"], "/x");
  EXPECT_EQ(active[0]["scrapeInterval"], "50ms");
  EXPECT_EQ(active[0]["seriesCount"], 1);
  EXPECT_EQ(active[0]["lastError"], "");
  EXPECT_THAT(active[0]["lastScrape"].get<std::string>(), HasSubstr("T"));
  ASSERT_EQ(doc["data"]["droppedTargets"].size(), 1u);
  EXPECT_EQ(doc["data"]["droppedTargets"][0]["discoveredLabels"]["skip"], "yes");
}

TEST_F(ScrapeManagerTest, RejectsABadConfigWithoutChangingAnything) {
  ASSERT_TRUE(manager_.ApplyConfig(MakeConfig(kJob)).ok());
  ASSERT_TRUE(manager_.UpdateTargets("j", "plan", {Group({{"/a", {}}})}).ok());
  Config bad = MakeConfig(kJob);
  bad.scrape_configs[0].relabel_configs.push_back({});  // replace without target_label
  EXPECT_FALSE(manager_.ApplyConfig(bad).ok());
  EXPECT_EQ(manager_.ActiveTargets().size(), 1u);
}

}  // namespace
}  // namespace shardwise::scrape
