#include "common/http/client_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace shardwise::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::StartsWith;

Result<HttpClientConfig> Parse(const std::string& yaml) {
  return ParseHttpClientConfig(YAML::Load(yaml), "scrape_configs[0]");
}

class SecretDir {
 public:
  SecretDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "client_config_XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~SecretDir() { std::filesystem::remove_all(path_); }
  // Overwrites the file in place (same inode).
  std::string Write(const std::string& name, const std::string& contents) {
    std::string file = path_ + "/" + name;
    std::ofstream(file, std::ios::binary | std::ios::trunc) << contents;
    return file;
  }
  // Replaces the file by a rename, as a Kubernetes Secret volume update does.
  std::string Replace(const std::string& name, const std::string& contents) {
    std::string tmp = Write(name + ".tmp", contents);
    std::filesystem::rename(tmp, path_ + "/" + name);
    return path_ + "/" + name;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string HeaderValue(const ClientRequest& req, std::string_view name) {
  return std::string(FindHeader(req.headers, name));
}

TEST(ParseHttpClientConfigTest, ReadsEveryField) {
  Result<HttpClientConfig> c = Parse(R"(
job_name: ignored
scrape_interval: 5s
tls_config:
  ca_file: /ca.pem
  cert: "-----BEGIN CERTIFICATE-----"
  key_file: /key.pem
  server_name: node.local
  insecure_skip_verify: true
basic_auth: {username_file: /user, password: pw}
headers: {X-Scope-OrgID: tenant-a, X-Empty: ""}
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->tls_config.ca_file, "/ca.pem");
  EXPECT_EQ(c->tls_config.cert, "-----BEGIN CERTIFICATE-----");
  EXPECT_EQ(c->tls_config.key_file, "/key.pem");
  EXPECT_EQ(c->tls_config.server_name, "node.local");
  EXPECT_TRUE(c->tls_config.insecure_skip_verify);
  ASSERT_TRUE(c->basic_auth.has_value());
  EXPECT_EQ(c->basic_auth->username_file, "/user");
  EXPECT_EQ(c->basic_auth->password, "pw");
  EXPECT_FALSE(c->authorization.has_value());
  EXPECT_THAT(c->headers,
              ::testing::ElementsAre(Pair("X-Empty", ""), Pair("X-Scope-OrgID", "tenant-a")));
}

TEST(ParseHttpClientConfigTest, AbsentOrNullNodeIsTheDefault) {
  Result<HttpClientConfig> none = ParseHttpClientConfig(YAML::Node(), "remote_write[0]");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, HttpClientConfig{});
  Result<HttpClientConfig> nulls = Parse("{tls_config: null, basic_auth: null, headers: null}");
  ASSERT_TRUE(nulls.ok()) << nulls.status().ToString();
  EXPECT_EQ(*nulls, HttpClientConfig{});
}

TEST(ParseHttpClientConfigTest, AuthorizationDefaultsToBearer) {
  Result<HttpClientConfig> c = Parse("{authorization: {credentials_file: /token}}");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(c->authorization.has_value());
  EXPECT_EQ(c->authorization->type, "Bearer");
  EXPECT_EQ(c->authorization->credentials_file, "/token");
}

TEST(ParseHttpClientConfigTest, LegacyBearerTokenBecomesAuthorization) {
  Result<HttpClientConfig> inline_token = Parse("{bearer_token: s3cret}");
  ASSERT_TRUE(inline_token.ok());
  EXPECT_EQ(inline_token->authorization, (Authorization{"Bearer", "s3cret", ""}));
  Result<HttpClientConfig> file_token = Parse("{bearer_token_file: /var/run/token}");
  ASSERT_TRUE(file_token.ok());
  EXPECT_EQ(file_token->authorization, (Authorization{"Bearer", "", "/var/run/token"}));
}

struct BadConfig {
  std::string yaml;
  std::string error_prefix;
};

class RejectsTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(RejectsTest, NamesThePath) {
  Result<HttpClientConfig> c = Parse(GetParam().yaml);
  ASSERT_FALSE(c.ok()) << GetParam().yaml;
  EXPECT_EQ(c.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(c.status().message(), StartsWith(GetParam().error_prefix)) << GetParam().yaml;
}

INSTANTIATE_TEST_SUITE_P(
    Validation, RejectsTest,
    ::testing::Values(
        BadConfig{"{tls_config: {cafile: x}}",
                  "scrape_configs[0].tls_config.cafile: unknown field"},
        BadConfig{"{tls_config: [a]}", "scrape_configs[0].tls_config: expected a map"},
        BadConfig{"{tls_config: {insecure_skip_verify: maybe}}",
                  "scrape_configs[0].tls_config.insecure_skip_verify: expected true or false"},
        BadConfig{"{tls_config: {ca: x, ca_file: y}}",
                  "scrape_configs[0].tls_config: at most one of ca and ca_file"},
        BadConfig{"{tls_config: {cert: x, cert_file: y, key: k}}",
                  "scrape_configs[0].tls_config: at most one of cert and cert_file"},
        BadConfig{"{tls_config: {cert_file: c}}",
                  "scrape_configs[0].tls_config: a client certificate needs a key"},
        BadConfig{"{tls_config: {key: k}}",
                  "scrape_configs[0].tls_config: a client key needs a certificate"},
        BadConfig{"{basic_auth: {username: u, password: p, password_file: f}}",
                  "scrape_configs[0].basic_auth: at most one of password and password_file"},
        BadConfig{"{basic_auth: {username: u, username_file: f}}",
                  "scrape_configs[0].basic_auth: at most one of username and username_file"},
        BadConfig{"{basic_auth: {user: u}}", "scrape_configs[0].basic_auth.user: unknown field"},
        BadConfig{"{basic_auth: {username: [u]}}",
                  "scrape_configs[0].basic_auth.username: expected a string"},
        BadConfig{"{authorization: {credentials: a, credentials_file: f}}",
                  "scrape_configs[0].authorization: at most one of credentials and "
                  "credentials_file"},
        BadConfig{"{authorization: {type: basic, credentials: a}}",
                  "scrape_configs[0].authorization.type: cannot be \"Basic\""},
        BadConfig{"{authorization: {credentials: a}, bearer_token: t}",
                  "scrape_configs[0]: at most one of authorization, bearer_token and "
                  "bearer_token_file"},
        BadConfig{"{bearer_token: t, bearer_token_file: f}",
                  "scrape_configs[0]: at most one of bearer_token and bearer_token_file"},
        BadConfig{"{basic_auth: {username: u}, authorization: {credentials: a}}",
                  "scrape_configs[0]: at most one of basic_auth and authorization"},
        BadConfig{"{basic_auth: {username: u}, bearer_token_file: f}",
                  "scrape_configs[0]: at most one of basic_auth and authorization"},
        BadConfig{"{headers: {Content-Type: x}}",
                  "scrape_configs[0].headers.Content-Type: is reserved"},
        BadConfig{"{headers: {authorization: x}}",
                  "scrape_configs[0].headers.authorization: is reserved"},
        BadConfig{"{headers: {'Bad Name': x}}",
                  "scrape_configs[0].headers.Bad Name: is not a valid header name"},
        BadConfig{"{headers: {X-A: [x]}}", "scrape_configs[0].headers.X-A: expected a string"},
        BadConfig{"{headers: [x]}", "scrape_configs[0].headers: expected a map"}));

TEST(ValidateHttpClientConfigTest, AppliesTheSameRulesToConfigsBuiltInCode) {
  HttpClientConfig c;
  EXPECT_TRUE(ValidateHttpClientConfig(c, "job a").ok());
  c.basic_auth = BasicAuth{.username = "u", .password = "p"};
  c.authorization = Authorization{.credentials = "t"};
  EXPECT_THAT(ValidateHttpClientConfig(c, "job a").message(),
              StartsWith("job a: at most one of basic_auth and authorization"));
}

TEST(IsHttpClientConfigKeyTest, KnowsExactlyItsKeys) {
  for (const char* key : {"tls_config", "basic_auth", "authorization", "bearer_token",
                          "bearer_token_file", "headers"}) {
    EXPECT_TRUE(IsHttpClientConfigKey(key)) << key;
  }
  EXPECT_FALSE(IsHttpClientConfigKey("job_name"));
  EXPECT_FALSE(IsHttpClientConfigKey("oauth2"));
}

TEST(ApplyToTest, FillsTlsAuthAndHeaders) {
  HttpClientConfig c;
  c.tls_config = TlsConfig{.ca_file = "/ca.pem",
                           .cert = "CERT",
                           .key = "KEY",
                           .server_name = "node.local",
                           .insecure_skip_verify = true};
  c.authorization = Authorization{.type = "Token", .credentials = "abc"};
  c.headers = {{"X-Scope-OrgID", "tenant-a"}, {"Accept", "text/plain"}};
  ClientRequest req;
  req.headers = {{"accept", "application/json"}, {"Authorization", "stale"}, {"X-Other", "1"}};
  ASSERT_TRUE(ApplyTo(c, req).ok());
  EXPECT_EQ(req.tls.ca_file, "/ca.pem");
  EXPECT_EQ(req.tls.cert_pem, "CERT");
  EXPECT_EQ(req.tls.key_pem, "KEY");
  EXPECT_EQ(req.tls.server_name, "node.local");
  EXPECT_TRUE(req.tls.insecure_skip_verify);
  EXPECT_FALSE(req.basic_auth.has_value());
  EXPECT_EQ(HeaderValue(req, "Authorization"), "Token abc");
  EXPECT_EQ(HeaderValue(req, "X-Scope-OrgID"), "tenant-a");
  EXPECT_EQ(HeaderValue(req, "Accept"), "text/plain");  // the configured value wins
  EXPECT_EQ(HeaderValue(req, "X-Other"), "1");
  EXPECT_EQ(req.headers.size(), 4u);
}

TEST(ApplyToTest, BasicAuthFromInlineAndFiles) {
  SecretDir dir;
  HttpClientConfig c;
  c.basic_auth = BasicAuth{.username_file = dir.Write("user", "alice\n"), .password = "pa:ss"};
  ClientRequest req;
  ASSERT_TRUE(ApplyTo(c, req).ok());
  ASSERT_TRUE(req.basic_auth.has_value());
  EXPECT_EQ(req.basic_auth->first, "alice");
  EXPECT_EQ(req.basic_auth->second, "pa:ss");
  EXPECT_EQ(HeaderValue(req, "Authorization"), "");
}

// The Authorization header ApplyTo produces for `config` now; "error: ..." on failure.
std::string AuthorizationNow(const HttpClientConfig& config) {
  ClientRequest req;
  Status st = ApplyTo(config, req);
  return st.ok() ? HeaderValue(req, "Authorization") : "error: " + st.ToString();
}

TEST(ApplyToTest, RereadsSecretFilesWhenTheyChange) {
  SecretDir dir;
  HttpClientConfig c;
  c.authorization = Authorization{.credentials_file = dir.Write("token", "  first\n")};
  EXPECT_EQ(AuthorizationNow(c), "Bearer first");
  EXPECT_EQ(AuthorizationNow(c), "Bearer first");

  // Rewritten in place with a different length.
  dir.Write("token", "second-token");
  EXPECT_EQ(AuthorizationNow(c), "Bearer second-token");

  // Rewritten in place with the same length, right away: timestamps may not have moved.
  dir.Write("token", "second-TOKEN");
  EXPECT_EQ(AuthorizationNow(c), "Bearer second-TOKEN");

  // Swapped for a new file of the same length, as a Secret volume update does.
  dir.Replace("token", "third--token");
  EXPECT_EQ(AuthorizationNow(c), "Bearer third--token");
}

TEST(ApplyToTest, RereadsAnOldCachedFileWhenItChanges) {
  SecretDir dir;
  const std::string file = dir.Write("token", "old-token");
  // Old enough to be served from the cache.
  std::filesystem::last_write_time(
      file, std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
  HttpClientConfig c;
  c.authorization = Authorization{.credentials_file = file};
  EXPECT_EQ(AuthorizationNow(c), "Bearer old-token");
  EXPECT_EQ(AuthorizationNow(c), "Bearer old-token");
  dir.Write("token", "new-token");
  EXPECT_EQ(AuthorizationNow(c), "Bearer new-token");
}

TEST(ApplyToTest, MissingSecretFileFailsUntilItAppears) {
  SecretDir dir;
  const std::string file = dir.path() + "/password";
  HttpClientConfig c;
  c.basic_auth = BasicAuth{.username = "u", .password_file = file};
  ClientRequest req;
  Status st = ApplyTo(c, req);
  EXPECT_EQ(st.code(), Status::Code::kFailedPrecondition);
  EXPECT_THAT(st.message(), HasSubstr("basic_auth.password_file"));
  EXPECT_THAT(st.message(), HasSubstr(file));

  dir.Write("password", "mounted");
  ClientRequest later;
  ASSERT_TRUE(ApplyTo(c, later).ok());
  EXPECT_EQ(later.basic_auth->second, "mounted");

  std::filesystem::remove(file);
  ClientRequest removed;
  EXPECT_FALSE(ApplyTo(c, removed).ok());
}

}  // namespace
}  // namespace shardwise::http
