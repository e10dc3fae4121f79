#include "scraper/scrape/target.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/relabel/parse.h"

namespace shardwise::scrape {
namespace {

using std::chrono::milliseconds;

// assign::TargetId("node", "10.0.0.1:9100", "/metrics", {{"module", "x"}}), computed with
// operator/assign/target_id.cc.
constexpr uint64_t kGoldenId = 0xada5db60004e90d4ULL;

ScrapeConfig Job(const std::string& yaml = "{job_name: node, scrape_interval: 30s}") {
  Result<Config> config = ParseConfig("scrape_configs: [" + yaml + "]");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return config->scrape_configs.at(0);
}

relabel::Relabeler Rules(const ScrapeConfig& c) {
  return relabel::Relabeler::Compile(c.relabel_configs).value();
}

Labels Addr(const std::string& address) { return Labels{{"__address__", address}}; }

TEST(TargetTest, DefaultsLabelsAndUrl) {
  ScrapeConfig c = Job();
  Labels discovered;
  auto t = BuildTarget(c, Rules(c), Addr("host:9100"), Labels{{"team", "a"}}, &discovered);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_TRUE(t->has_value());
  const Target& target = **t;
  EXPECT_EQ(target.labels, (Labels{{"instance", "host:9100"}, {"job", "node"}, {"team", "a"}}));
  EXPECT_EQ(target.Url(), "http://host:9100/metrics");
  EXPECT_EQ(target.interval, milliseconds(30000));
  EXPECT_EQ(target.timeout, milliseconds(10000));
  EXPECT_EQ(discovered.Get("__scrape_interval__"), "30s");
  EXPECT_EQ(discovered.Get("__metrics_path__"), "/metrics");
  EXPECT_EQ(discovered.Get("__scheme__"), "http");
  EXPECT_EQ(target.discovered_labels, discovered);
}

TEST(TargetTest, TargetLabelsWinOverGroupLabels) {
  ScrapeConfig c = Job();
  auto t = BuildTarget(c, Rules(c), Labels{{"__address__", "h:1"}, {"team", "mine"}},
                       Labels{{"team", "group"}, {"zone", "z"}}, nullptr);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->labels.Get("team"), "mine");
  EXPECT_EQ((*t)->labels.Get("zone"), "z");
}

TEST(TargetTest, RelabelingControlsScrapeParameters) {
  ScrapeConfig c = Job(R"({job_name: probe, scrape_interval: 1m, params: {module: [a, b]},
    relabel_configs: [
      {source_labels: [__address__], target_label: __param_target},
      {target_label: __address__, replacement: 'prober:9115'},
      {target_label: __metrics_path__, replacement: /probe},
      {target_label: __scheme__, replacement: https},
      {target_label: __scrape_interval__, replacement: 20s},
      {target_label: __scrape_timeout__, replacement: 2s},
      {target_label: __param_module, replacement: icmp},
      {source_labels: [__param_target], target_label: instance}]})");
  auto t = BuildTarget(c, Rules(c), Addr("example.com"), Labels{}, nullptr);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const Target& target = **t;
  EXPECT_EQ(target.Url(), "https://prober:9115/probe?module=icmp&module=b&target=example.com");
  EXPECT_EQ(target.interval, milliseconds(20000));
  EXPECT_EQ(target.timeout, milliseconds(2000));
  EXPECT_EQ(target.labels, (Labels{{"instance", "example.com"}, {"job", "probe"}}));
}

TEST(TargetTest, MetaLabelsAreDroppedAndDefaultPortAdded) {
  ScrapeConfig c = Job(R"({job_name: j, relabel_configs: [
      {source_labels: [__meta_pod], target_label: pod}]})");
  auto t = BuildTarget(c, Rules(c), Labels{{"__address__", "10.0.0.1"}, {"__meta_pod", "p1"}},
                       Labels{}, nullptr);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->labels, (Labels{{"instance", "10.0.0.1:80"}, {"job", "j"}, {"pod", "p1"}}));
  EXPECT_EQ((*t)->address, "10.0.0.1:80");
}

TEST(TargetTest, DropAndErrors) {
  ScrapeConfig c = Job(R"({job_name: j, relabel_configs: [
      {source_labels: [drop], regex: 'yes', action: drop}]})");
  auto dropped =
      BuildTarget(c, Rules(c), Labels{{"__address__", "h:1"}, {"drop", "yes"}}, Labels{}, nullptr);
  ASSERT_TRUE(dropped.ok());
  EXPECT_FALSE(dropped->has_value());

  ScrapeConfig plain = Job();
  EXPECT_FALSE(BuildTarget(plain, Rules(plain), Labels{{"x", "y"}}, Labels{}, nullptr).ok());
  EXPECT_FALSE(BuildTarget(plain, Rules(plain), Addr("h:1/path"), Labels{}, nullptr).ok());
  EXPECT_FALSE(BuildTarget(plain, Rules(plain),
                           Labels{{"__address__", "h:1"}, {"__scrape_timeout__", "1h"}}, Labels{},
                           nullptr)
                   .ok());
  EXPECT_FALSE(BuildTarget(plain, Rules(plain),
                           Labels{{"__address__", "h:1"}, {"__scrape_interval__", "0"}}, Labels{},
                           nullptr)
                   .ok());
}

TEST(TargetTest, IdentityIsJobPlusUrl) {
  ScrapeConfig c = Job();
  auto a = BuildTarget(c, Rules(c), Addr("h:1"), Labels{{"x", "1"}}, nullptr);
  auto b = BuildTarget(c, Rules(c), Addr("h:1"), Labels{{"x", "2"}}, nullptr);
  auto other = BuildTarget(c, Rules(c), Addr("h:2"), Labels{}, nullptr);
  EXPECT_EQ((*a)->hash, (*b)->hash);  // labels are not identity
  EXPECT_NE((*a)->hash, (*other)->hash);
  EXPECT_EQ((*a)->hash, TargetHash("node", "h:1", "/metrics"));
  EXPECT_NE(TargetHash("node", "h:1", "/metrics"), TargetHash("other", "h:1", "/metrics"));
  EXPECT_NE(TargetHash("node", "h:1", "/metrics"), TargetHash("node", "h:1", "/metrics2"));
  // Params are order-independent.
  EXPECT_EQ(TargetHash("j", "h:1", "/p", {{"a", "1"}, {"b", "2"}}),
            TargetHash("j", "h:1", "/p", {{"b", "2"}, {"a", "1"}}));
  EXPECT_NE(TargetHash("j", "h:1", "/p", {{"a", "1"}}), TargetHash("j", "h:1", "/p"));
  // Golden value shared with operator/assign's TargetId: plan ids name the same target.
  EXPECT_EQ(TargetHash("node", "10.0.0.1:9100", "/metrics", {{"module", "x"}}), kGoldenId);
}

}  // namespace
}  // namespace shardwise::scrape
