#include "scraper/remotewrite/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace shardwise::remotewrite {
namespace {

using ::testing::StartsWith;

TEST(ConfigTest, ParsesEveryField) {
  auto cfg = ParseRemoteWriteConfig(R"(
remote_write:
  - url: https://vm.example:8428/api/v1/write
    name: vm
    remote_timeout: 1m30s
    headers: {X-Scope-OrgID: tenant-a}
    authorization: {type: Bearer, credentials_file: /etc/token}
    tls_config: {ca_file: /ca.pem, cert_file: /c.pem, key_file: /k.pem, server_name: vm,
                 insecure_skip_verify: true}
    queue_config:
      capacity: 5000
      max_shards: 8
      min_shards: 2
      max_samples_per_send: 1000
      batch_send_deadline: 250ms
      min_backoff: 50ms
      max_backoff: 10s
      retry_on_http_429: false
    write_relabel_configs:
      - {source_labels: [__name__], regex: "go_.*", action: drop}
  - url: http://127.0.0.1:9090/api/v1/write
    basic_auth: {username_file: /user, password_file: /pw}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  ASSERT_EQ(cfg->size(), 2u);
  const EndpointConfig& vm = (*cfg)[0];
  EXPECT_EQ(vm.name, "vm");
  EXPECT_EQ(vm.remote_timeout, Millis(90000));
  ASSERT_EQ(vm.headers.size(), 1u);
  EXPECT_EQ(vm.headers.at("X-Scope-OrgID"), "tenant-a");
  ASSERT_TRUE(vm.authorization.has_value());
  EXPECT_EQ(vm.authorization->credentials_file, "/etc/token");
  EXPECT_TRUE(vm.tls_config.insecure_skip_verify);
  EXPECT_EQ(vm.tls_config.server_name, "vm");
  EXPECT_EQ(vm.tls_config.cert_file, "/c.pem");
  EXPECT_EQ(vm.queue.capacity, 5000);
  EXPECT_EQ(vm.queue.max_shards, 8);
  EXPECT_EQ(vm.queue.min_shards, 2);
  EXPECT_EQ(vm.queue.max_samples_per_send, 1000);
  EXPECT_EQ(vm.queue.batch_send_deadline, Millis(250));
  EXPECT_EQ(vm.queue.min_backoff, Millis(50));
  EXPECT_EQ(vm.queue.max_backoff, Millis(10000));
  EXPECT_FALSE(vm.queue.retry_on_http_429);
  EXPECT_EQ(vm.write_relabel_configs.size(), 1u);

  const EndpointConfig& prom = (*cfg)[1];
  EXPECT_EQ(prom.name.size(), 6u);  // derived from the url
  ASSERT_TRUE(prom.basic_auth.has_value());
  EXPECT_EQ(prom.basic_auth->username_file, "/user");
  EXPECT_EQ(prom.basic_auth->password_file, "/pw");
  EXPECT_EQ(prom.queue.max_samples_per_send, QueueConfig{}.max_samples_per_send);
}

TEST(ConfigTest, LegacyBearerTokenBecomesAuthorization) {
  auto cfg = ParseRemoteWriteConfig("- {url: 'http://a/w', bearer_token: s3cret}");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  ASSERT_TRUE((*cfg)[0].authorization.has_value());
  EXPECT_EQ((*cfg)[0].authorization->type, "Bearer");
  EXPECT_EQ((*cfg)[0].authorization->credentials, "s3cret");
}

TEST(ConfigTest, MetadataConfigDefaultsAndValues) {
  auto cfg = ParseRemoteWriteConfig(
      "- {url: 'http://a'}\n"
      "- {url: 'http://b', metadata_config: {send: false, send_interval: 15s, "
      "max_samples_per_send: 7}}");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_TRUE((*cfg)[0].metadata.send);
  EXPECT_EQ((*cfg)[0].metadata.send_interval, std::chrono::minutes(1));
  EXPECT_EQ((*cfg)[0].metadata.max_samples_per_send, 500);
  EXPECT_FALSE((*cfg)[1].metadata.send);
  EXPECT_EQ((*cfg)[1].metadata.send_interval, std::chrono::seconds(15));
  EXPECT_EQ((*cfg)[1].metadata.max_samples_per_send, 7);
}

TEST(ConfigTest, EmptyOrMissingListIsNoEndpoints) {
  auto cfg = ParseRemoteWriteConfig("global: {}");
  ASSERT_TRUE(cfg.ok());
  EXPECT_TRUE(cfg->empty());
}

// The same endpoint from the config file (block YAML) and from a plan (JSON) has one
// source, so a running scraper keeps its queue; any change of a setting changes it.
TEST(ConfigTest, SourceIsTheCanonicalFormOfTheEntry) {
  auto file = ParseRemoteWriteConfig(
      "remote_write:\n- url: http://a/write\n  queue_config:\n    batch_send_deadline: 500ms\n"
      "    max_shards: 10\n");
  auto plan = ParseRemoteWriteConfig(
      R"([{"queue_config": {"max_shards": "10", "batch_send_deadline": "500ms"},
          "url": "http://a/write"}])");
  auto changed = ParseRemoteWriteConfig(
      R"([{"url": "http://a/write", "queue_config": {"batch_send_deadline": "1s",
          "max_shards": "10"}}])");
  ASSERT_TRUE(file.ok() && plan.ok() && changed.ok());
  EXPECT_FALSE(file->at(0).source.empty());
  EXPECT_EQ(file->at(0).source, plan->at(0).source);
  EXPECT_NE(file->at(0).source, changed->at(0).source);
}

struct BadCase {
  const char* yaml;
  const char* path;
};

TEST(ConfigTest, ErrorsNameThePath) {
  const BadCase cases[] = {
      {"- {name: x}", "remote_write[0].url: is required"},
      {"- {url: 'ftp://a'}", "remote_write[0].url:"},
      {"- {url: 'http://a', urll: 1}", "remote_write[0].urll: unknown field"},
      {"- {url: 'http://a', remote_timeout: 5x}", "remote_write[0].remote_timeout:"},
      {"- {url: 'http://a', queue_config: {min_shards: 5, max_shards: 2}}",
       "remote_write[0].queue_config.max_shards:"},
      {"- {url: 'http://a', queue_config: {max_shards: many}}",
       "remote_write[0].queue_config.max_shards: must be an integer"},
      {"- {url: 'http://a', queue_config: {capacity: 10, max_samples_per_send: 100}}",
       "remote_write[0].queue_config.capacity:"},
      {"- {url: 'http://a', queue_config: {min_backoff: 1s, max_backoff: 10ms}}",
       "remote_write[0].queue_config.max_backoff:"},
      {"- {url: 'http://a', headers: {Content-Type: x}}",
       "remote_write[0].headers.Content-Type: is reserved"},
      {"- {url: 'http://a', basic_auth: {username: u, password: p, password_file: f}}",
       "remote_write[0].basic_auth: at most one of password and password_file"},
      {"- {url: 'http://a', basic_auth: {username: u}, bearer_token: t}",
       "remote_write[0]: at most one of basic_auth and authorization"},
      {"- {url: 'http://a', authorization: {credentials: a}, bearer_token: t}",
       "remote_write[0]: at most one of authorization, bearer_token"},
      {"- {url: 'http://a', tls_config: {cert_file: c}}",
       "remote_write[0].tls_config: a client certificate needs a key"},
      {"- {url: 'http://a', tls_config: {ca_file: c, cafile: d}}",
       "remote_write[0].tls_config.cafile: unknown field"},
      {"- {url: 'http://a', metadata_config: {sendd: true}}",
       "remote_write[0].metadata_config.sendd: unknown field"},
      {"- {url: 'http://a', metadata_config: {send_interval: 0s}}",
       "remote_write[0].metadata_config.send_interval: must be > 0"},
      {"- {url: 'http://a', metadata_config: {max_samples_per_send: 0}}",
       "remote_write[0].metadata_config.max_samples_per_send: must be >= 1"},
      {"- {url: 'http://a', metadata_config: {send: maybe}}",
       "remote_write[0].metadata_config.send: must be true or false"},
      {"- {url: 'http://a', write_relabel_configs: [{action: drop, regx: a}]}",
       "remote_write[0].write_relabel_configs[0].regx: unknown field"},
      {"- {url: 'http://a', queue_config: {capacity: 10, max_shard: 1}}",
       "remote_write[0].queue_config.max_shard: unknown field"},
      {"- {url: 'http://a'}\n- {url: 'http://b', name: x}\n- {url: 'http://c', name: x}",
       "remote_write[2].name: duplicate"},
      {"remote_write: {url: 'http://a'}", "remote_write: must be a list"},
      {"- {url: 'http://a', write_relabel_configs: [{action: nope}]}",
       "remote_write[0].write_relabel_configs:"},
  };
  for (const auto& c : cases) {
    auto cfg = ParseRemoteWriteConfig(c.yaml);
    ASSERT_FALSE(cfg.ok()) << c.yaml;
    EXPECT_EQ(cfg.status().code(), Status::Code::kInvalidArgument);
    EXPECT_THAT(cfg.status().message(), StartsWith(c.path)) << c.yaml;
  }
}

}  // namespace
}  // namespace shardwise::remotewrite
