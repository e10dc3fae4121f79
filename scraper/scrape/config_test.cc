#include "scraper/scrape/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace shardwise::scrape {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

TEST(ConfigTest, ParsesAFullJob) {
  Result<Config> config = ParseConfig(R"(
global:
  scrape_interval: 30s
  scrape_timeout: 5s
  external_labels: {cluster: eu1}
remote_write:
  - url: http://example/api/v1/write
scrape_configs:
  - job_name: node
    scrape_interval: 15s
    metrics_path: /probe
    scheme: https
    params: {module: [http_2xx, other], target: [x]}
    honor_labels: true
    honor_timestamps: false
    sample_limit: 1000
    label_limit: 30
    label_name_length_limit: 100
    label_value_length_limit: 200
    body_size_limit: 10MB
    tls_config: {ca_file: /ca.pem, server_name: node.local, insecure_skip_verify: true}
    authorization: {type: Bearer, credentials_file: /token}
    relabel_configs:
      - source_labels: [__address__]
        target_label: host
    metric_relabel_configs:
      - action: drop
        source_labels: [__name__]
        regex: go_.*
    static_configs:
      - targets: ['a:9100', 'b:9100']
        labels: {team: infra}
    file_sd_configs:
      - files: [/etc/targets/*.json]
        refresh_interval: 1m
    http_sd_configs:
      - url: http://sd.local/targets
  - job_name: second
    basic_auth: {username: u, password_file: /pw}
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->global.scrape_interval, milliseconds(30000));
  EXPECT_EQ(config->global.external_labels.Get("cluster"), "eu1");
  EXPECT_TRUE(config->raw["remote_write"].IsSequence());
  ASSERT_EQ(config->scrape_configs.size(), 2u);

  const ScrapeConfig& node = config->scrape_configs[0];
  EXPECT_EQ(node.job_name, "node");
  EXPECT_EQ(node.scrape_interval, milliseconds(15000));
  EXPECT_EQ(node.scrape_timeout, milliseconds(5000));
  EXPECT_EQ(node.metrics_path, "/probe");
  EXPECT_EQ(node.scheme, "https");
  ASSERT_EQ(node.params.size(), 2u);
  EXPECT_EQ(node.params[0].first, "module");
  EXPECT_EQ(node.params[0].second, (std::vector<std::string>{"http_2xx", "other"}));
  EXPECT_TRUE(node.honor_labels);
  EXPECT_FALSE(node.honor_timestamps);
  EXPECT_EQ(node.sample_limit, 1000u);
  EXPECT_EQ(node.label_limit, 30u);
  EXPECT_EQ(node.label_name_length_limit, 100u);
  EXPECT_EQ(node.label_value_length_limit, 200u);
  EXPECT_EQ(node.body_size_limit, 10u << 20);
  EXPECT_EQ(node.tls_config.ca_file, "/ca.pem");
  EXPECT_EQ(node.tls_config.server_name, "node.local");
  EXPECT_TRUE(node.tls_config.insecure_skip_verify);
  ASSERT_TRUE(node.authorization.has_value());
  EXPECT_EQ(node.authorization->type, "Bearer");
  EXPECT_EQ(node.authorization->credentials_file, "/token");
  EXPECT_EQ(node.relabel_configs.size(), 1u);
  EXPECT_EQ(node.metric_relabel_configs.size(), 1u);
  ASSERT_EQ(node.static_configs.size(), 1u);
  EXPECT_EQ(node.static_configs[0].targets.size(), 2u);
  EXPECT_EQ(node.static_configs[0].labels.Get("team"), "infra");
  ASSERT_EQ(node.file_sd_configs.size(), 1u);
  EXPECT_EQ(node.file_sd_configs[0].refresh_interval, milliseconds(60000));
  ASSERT_EQ(node.http_sd_configs.size(), 1u);
  EXPECT_EQ(node.http_sd_configs[0].refresh_interval, milliseconds(60000));  // default

  const ScrapeConfig& second = config->scrape_configs[1];
  EXPECT_EQ(second.scrape_interval, milliseconds(30000));  // from global
  EXPECT_EQ(second.metrics_path, "/metrics");
  EXPECT_EQ(second.scheme, "http");
  EXPECT_TRUE(second.honor_timestamps);
  ASSERT_TRUE(second.basic_auth.has_value());
  EXPECT_EQ(second.basic_auth->password_file, "/pw");
  EXPECT_NE(node.fingerprint, second.fingerprint);
}

TEST(ConfigTest, DefaultsMatchPrometheus) {
  Result<Config> config = ParseConfig("scrape_configs: [{job_name: a}]");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->global.scrape_interval, milliseconds(60000));
  EXPECT_EQ(config->global.scrape_timeout, milliseconds(10000));
  EXPECT_EQ(config->scrape_configs[0].scrape_timeout, milliseconds(10000));
  // A job interval below the global timeout caps the timeout.
  config = ParseConfig("scrape_configs: [{job_name: a, scrape_interval: 5s}]");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->scrape_configs[0].scrape_timeout, milliseconds(5000));
}

// Found by fuzz/scrape_config_fuzz: a zero global timeout gave every job a 0 ms timeout.
TEST(ConfigTest, ZeroGlobalTimeoutMeansDefault) {
  auto c = ParseConfig(
      "global: {scrape_interval: 5s, scrape_timeout: 0s}\n"
      "scrape_configs: [{job_name: a}]\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->scrape_configs[0].scrape_timeout, std::chrono::seconds(5));
  auto d = ParseConfig("global: {scrape_timeout: 0s}\nscrape_configs: [{job_name: a}]\n");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->scrape_configs[0].scrape_timeout, std::chrono::seconds(10));
}

TEST(ConfigTest, FingerprintIsStableAndTracksChanges) {
  const char* a = "scrape_configs: [{job_name: a, sample_limit: 5}]";
  EXPECT_EQ(ParseConfig(a)->scrape_configs[0].fingerprint,
            ParseConfig(a)->scrape_configs[0].fingerprint);
  EXPECT_NE(ParseConfig(a)->scrape_configs[0].fingerprint,
            ParseConfig("scrape_configs: [{job_name: a, sample_limit: 6}]")
                ->scrape_configs[0]
                .fingerprint);
  // Target sources are not: a new static target must not restart the job's loops.
  EXPECT_EQ(ParseConfig("scrape_configs: [{job_name: a, static_configs: [{targets: [x]}]}]")
                ->scrape_configs[0]
                .fingerprint,
            ParseConfig("scrape_configs: [{job_name: a, static_configs: [{targets: [x, y]}], "
                        "file_sd_configs: [{files: [f.json]}]}]")
                ->scrape_configs[0]
                .fingerprint);
  // The global interval a job inherits is part of its configuration.
  EXPECT_NE(ParseConfig("scrape_configs: [{job_name: a}]")->scrape_configs[0].fingerprint,
            ParseConfig("{global: {scrape_interval: 20s}, scrape_configs: [{job_name: a}]}")
                ->scrape_configs[0]
                .fingerprint);
}

struct BadConfig {
  const char* yaml;
  const char* error;
};

class ConfigErrorTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(ConfigErrorTest, NamesThePath) {
  Result<Config> config = ParseConfig(GetParam().yaml);
  ASSERT_FALSE(config.ok()) << GetParam().yaml;
  EXPECT_THAT(config.status().message(), HasSubstr(GetParam().error));
}

INSTANTIATE_TEST_SUITE_P(
    All, ConfigErrorTest,
    ::testing::Values(
        BadConfig{"scrape_configs: [{job_name: a, scrape_interval: 5x}]",
                  "scrape_configs[0].scrape_interval: invalid duration"},
        BadConfig{"scrape_configs: [{job_name: a}, {job_name: b, scrape_timeout: 2m}]",
                  "scrape_configs[1].scrape_timeout: greater than the scrape interval"},
        BadConfig{"scrape_configs: [{job_name: a}, {job_name: a}]", "scrape_configs[1].job_name"},
        BadConfig{"scrape_configs: [{scrape_interval: 5s}]", "scrape_configs[0].job_name"},
        BadConfig{"scrape_configs: [{job_name: a, scheme: ftp}]", "scrape_configs[0].scheme"},
        BadConfig{"scrape_configs: [{job_name: a, sample_limt: 5}]",
                  "scrape_configs[0].sample_limt: unknown field"},
        BadConfig{"scrape_configs: [{job_name: a, relabel_configs: [{action: keep}, {regx: a}]}]",
                  "scrape_configs[0].relabel_configs[1].regx: unknown field"},
        BadConfig{"scrape_configs: [{job_name: a, metric_relabel_configs: [{sourcelabels: }]}]",
                  "scrape_configs[0].metric_relabel_configs[0].sourcelabels: unknown field"},
        BadConfig{"scrape_configs: [{job_name: a, static_configs: [{targets: [x], label: {}}]}]",
                  "scrape_configs[0].static_configs[0].label: unknown field"},
        BadConfig{"scrape_configs: [{job_name: a, file_sd_configs: [{files: [a.json], "
                  "refresh: 1m}]}]",
                  "scrape_configs[0].file_sd_configs[0].refresh: unknown field"},
        BadConfig{"scrape_configs: [{job_name: a, tls_config: {ca_file: x, insecure: true}}]",
                  "scrape_configs[0].tls_config.insecure: unknown field"},
        BadConfig{"global: {scrape_intervall: 1m}", "global.scrape_intervall: unknown field"},
        BadConfig{"scrape_config: []", "scrape_config: unknown field"},
        BadConfig{"scrape_configs: [{job_name: a, sample_limit: -5}]",
                  "scrape_configs[0].sample_limit"},
        BadConfig{"scrape_configs: [{job_name: a, honor_labels: maybe}]",
                  "scrape_configs[0].honor_labels"},
        BadConfig{"scrape_configs: [{job_name: a, body_size_limit: 3XB}]",
                  "scrape_configs[0].body_size_limit"},
        BadConfig{"scrape_configs: [{job_name: a, tls_config: {cafile: x}}]",
                  "scrape_configs[0].tls_config.cafile: unknown field"},
        BadConfig{"scrape_configs: [{job_name: a, tls_config: {ca: x, ca_file: y}}]",
                  "scrape_configs[0].tls_config: at most one of ca and ca_file"},
        BadConfig{"scrape_configs: [{job_name: a, headers: {User-Agent: x}}]",
                  "scrape_configs[0].headers.User-Agent: is reserved"},
        BadConfig{"scrape_configs: [{job_name: a, bearer_token: x, authorization: {credentials: "
                  "y}}]",
                  "scrape_configs[0]: at most one of authorization, bearer_token"},
        BadConfig{"scrape_configs: [{job_name: a, bearer_token: x, basic_auth: {username: u}}]",
                  "scrape_configs[0]: at most one of basic_auth"},
        BadConfig{"scrape_configs: [{job_name: a, relabel_configs: [{action: hashmod}]}]",
                  "scrape_configs[0].relabel_configs"},
        BadConfig{"scrape_configs: [{job_name: a, metric_relabel_configs: [{regex: '('}]}]",
                  "scrape_configs[0].metric_relabel_configs"},
        BadConfig{"scrape_configs: [{job_name: a, static_configs: [{targets: [x], labels: "
                  "{'0bad': v}}]}]",
                  "scrape_configs[0].static_configs[0].labels"},
        BadConfig{"scrape_configs: [{job_name: a, file_sd_configs: [{files: [x.txt]}]}]",
                  "scrape_configs[0].file_sd_configs[0].files"},
        BadConfig{"scrape_configs: [{job_name: a, http_sd_configs: [{url: ftp://x}]}]",
                  "scrape_configs[0].http_sd_configs[0].url"},
        BadConfig{"global: {scrape_interval: 10s, scrape_timeout: 20s}", "global.scrape_timeout"},
        BadConfig{"global: {external_labels: {'a-b': x}}", "global.external_labels"},
        BadConfig{"scrape_configs: {job_name: a}", "scrape_configs: expected a list"},
        BadConfig{"scrape_configs: [{job_name: a", "config:"}));

TEST(ConfigTest, HttpClientSettingsUseTheSharedParser) {
  Result<Config> config = ParseConfig(R"(
scrape_configs:
  - job_name: a
    bearer_token_file: /var/run/token
    tls_config: {ca: "-----BEGIN CERTIFICATE-----", server_name: x}
    headers: {X-Tenant: t1}
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const ScrapeConfig& job = config->scrape_configs[0];
  EXPECT_EQ(job.authorization, (http::Authorization{"Bearer", "", "/var/run/token"}));
  EXPECT_EQ(job.tls_config.ca, "-----BEGIN CERTIFICATE-----");
  EXPECT_EQ(job.headers.at("X-Tenant"), "t1");
}

TEST(ConfigTest, ToleratesUnknownTopLevelSections) {
  Result<Config> config =
      ParseConfig("rule_files: [x]\nremote_write: [{url: 'http://x'}]\nscrape_configs: []\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->scrape_configs.empty());
  EXPECT_EQ(config->raw["remote_write"][0]["url"].as<std::string>(), "http://x");
}

TEST(ConfigTest, LoadConfigFileReportsMissingFile) {
  Result<Config> config = LoadConfigFile("/nonexistent/shardwise.yml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), Status::Code::kIOError);
}

}  // namespace
}  // namespace shardwise::scrape
