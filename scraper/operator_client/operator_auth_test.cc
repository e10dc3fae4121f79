// The scraper and the discovery endpoint with authentication on, as in a cluster: the
// scraper sends its token file's content, the operator checks it (TokenReview faked by a
// table of tokens) and serves only that pod's plan.
//
// Shows: the scraper re-reads its token file when the kubelet rotates it; no credential
// (the scraper's token, targets' bearer tokens, basic-auth passwords, TLS keys) appears in
// any log line of either side, while both sides log their failures.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/base64.h"
#include "common/log/log.h"
#include "operator/endpoint/discovery_endpoint.h"
#include "scraper/operator_client/opclient_test_util.h"
#include "scraper/operator_client/operator_mode.h"
#include "scraper/storage/memory_sink.h"

namespace shardwise::opclient {
namespace {

using namespace std::chrono_literals;
using testing::MetricsTarget;
using testing::PlanTarget;
using testing::TempDir;
using testing::WaitFor;

constexpr char kPod[] = "shardwise-main-0-1";

std::string Jwt(const std::string& id) {
  nlohmann::json claims = {{"aud", {"shardwise"}}, {"exp", 4102444800}, {"jti", id}};
  return Base64UrlEncode(R"({"alg":"RS256"})") + "." + Base64UrlEncode(claims.dump()) + ".SIG-" +
         id;
}

// Sends this process's stdout and stderr (where every log line goes) to a file for the
// lifetime of the object.
class CapturedOutput {
 public:
  explicit CapturedOutput(std::string path) : path_(std::move(path)) {
    std::fflush(stdout);
    std::fflush(stderr);
    saved_out_ = ::dup(1);
    saved_err_ = ::dup(2);
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::close(fd);
  }
  ~CapturedOutput() { Restore(); }
  std::string Restore() {
    if (saved_out_ >= 0) {
      std::fflush(stdout);
      std::fflush(stderr);
      ::dup2(saved_out_, 1);
      ::dup2(saved_err_, 2);
      ::close(saved_out_);
      ::close(saved_err_);
      saved_out_ = saved_err_ = -1;
    }
    std::ifstream in(path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::string path_;
  int saved_out_ = -1, saved_err_ = -1;
};

class OperatorAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reports_.SetAdmission([](const endpoint::ShardKey&) { return true; });
    endpoint_.SetAuthorizer(
        [this](const http::Request& r, const endpoint::Access& a) { return auth_.Check(r, a); });
    endpoint_.Register(server_);
    ASSERT_TRUE(server_.Start().ok());
  }
  void TearDown() override { server_.Stop(); }

  // The fake API server's TokenReview.
  Result<endpoint::TokenIdentity> Review(const std::string& token) {
    std::lock_guard lock(mu_);
    endpoint::TokenIdentity id;
    auto it = valid_.find(token);
    if (it == valid_.end()) {
      id.error = "invalid bearer token";
      return id;
    }
    id.authenticated = true;
    id.username = "system:serviceaccount:mon:shardwise-main-scraper";
    id.pod_name = it->second;
    endpoint::ParseServiceAccountUsername(&id);
    return id;
  }
  void Valid(const std::string& token, const std::string& pod) {
    std::lock_guard lock(mu_);
    valid_[token] = pod;
  }

  OperatorModeOptions Options(const std::string& token_file) const {
    OperatorModeOptions o;
    o.operator_url = "http://" + server_.address();
    o.pod_namespace = "mon";
    o.pod_name = kPod;
    o.data_dir = dir_.path();
    o.plan_wait = 1s;
    o.max_backoff = 200ms;
    o.report_interval = 100ms;
    o.http.authorization = http::Authorization{.credentials_file = token_file};
    return o;
  }

  uint64_t Publish(std::vector<plan::Target> targets) {
    plan::ScrapePlan p;
    p.pool_namespace = "mon";
    p.pool = "main";
    p.shard = 1;
    p.targets = std::move(targets);
    return plans_.Publish(endpoint::ShardKey{"mon", "main", 1, 0}, std::move(p));
  }

  std::mutex mu_;
  std::map<std::string, std::string> valid_;  // token → bound pod
  endpoint::TokenReviewer reviewer_{
      [this](const std::string& t) { return Review(t); },
      endpoint::TokenReviewer::Options{.max_ttl = std::chrono::seconds(0),
                                       .negative_ttl = std::chrono::seconds(0)}};
  endpoint::ScraperAuth auth_{reviewer_};
  endpoint::PlanStore plans_;
  endpoint::ReportStore reports_;
  endpoint::DiscoveryEndpoint endpoint_{plans_, reports_};
  http::Server server_{{}};
  TempDir dir_;
};

struct Scraper {
  explicit Scraper(OperatorModeOptions options) : mode(std::move(options), manager, client) {}
  ~Scraper() {
    mode.Stop();
    manager.Stop();
  }
  storage::MemorySink sink;
  http::Client client;
  scrape::ScrapeManager manager{{}, sink, client};
  OperatorMode mode;
};

TEST_F(OperatorAuthTest, TheScraperAuthenticatesWithItsTokenFileAcrossRotation) {
  MetricsTarget target("up", 1);
  uint64_t gen = Publish({PlanTarget(1, target.address(), "a")});
  std::string first = Jwt("first"), second = Jwt("second");
  Valid(first, kPod);
  std::string token_file = dir_.File("token", first + "\n");
  Scraper s(Options(token_file));
  ASSERT_TRUE(s.mode.Start().ok());
  ASSERT_TRUE(WaitFor([&] {
    auto c = s.mode.applier().Current();
    return c && c->generation == gen;
  }));
  ASSERT_TRUE(WaitFor([&] {
    return reports_.Get(endpoint::ShardKey{"mon", "main", 1, 0}).has_value();
  }));

  // The kubelet rotates the token; the old one stops being valid right after.
  Valid(second, kPod);
  dir_.File("token", second + "\n");
  {
    std::lock_guard lock(mu_);
    valid_.erase(first);
  }
  reports_.Remove(endpoint::ShardKey{"mon", "main", 1, 0});
  EXPECT_TRUE(WaitFor([&] {
    return reports_.Get(endpoint::ShardKey{"mon", "main", 1, 0}).has_value();
  })) << "reports stopped after the token rotated";
}

TEST_F(OperatorAuthTest, NoCredentialEverReachesALogLine) {
  const std::string scraper_token = Jwt("scraper-token-secret");
  const std::string bearer = "target-bearer-SECRET-1";
  const std::string password = "target-password-SECRET-2";
  const std::string key_pem =
      "-----BEGIN PRIVATE KEY-----\nTARGETKEYSECRET3\n-----END PRIVATE KEY-----\n";
  // Targets that refuse every scrape (401), so the scraper logs failures that concern them.
  http::Server refusing({});
  std::atomic<int> refused{0};
  refusing.Handle("/", http::Simple([&](const http::Request&) {
                    ++refused;
                    return http::Response::Text(401, "who are you\n");
                  }));
  ASSERT_TRUE(refusing.Start().ok());
  plan::Target with_bearer = PlanTarget(1, refusing.address(), "bearer");
  with_bearer.auth = plan::AuthConfig{.bearer_token = bearer};
  plan::Target with_basic = PlanTarget(2, refusing.address(), "basic");
  with_basic.auth = plan::AuthConfig{.basic_username = "u", .basic_password = password};
  plan::Target with_key = PlanTarget(3, refusing.address(), "tls");
  with_key.scheme = "https";
  with_key.tls = plan::TlsConfig{.cert_pem =
                                     "-----BEGIN CERTIFICATE-----\nx\n-----END "
                                     "CERTIFICATE-----\n",
                                 .key_pem = key_pem};
  uint64_t gen = Publish({with_bearer, with_basic, with_key});

  bool applied = false, reported = false;
  CapturedOutput out(dir_.path() + "/log.txt");
  log::Setup("debug", "logfmt", "test");
  std::string token_file = dir_.File("token", scraper_token);
  {
    // First with a token the API server does not know: 401s, logged on both sides.
    Scraper s(Options(token_file));
    ASSERT_TRUE(s.mode.Start().ok());
    WaitFor([&] { return reviewer_.reviews() >= 3; }, 5s);
    Valid(scraper_token, "shardwise-main-0-2");  // then bound to another pod: 403s
    WaitFor([&] { return reviewer_.reviews() >= 6; }, 5s);
    Valid(scraper_token, kPod);  // then right: the plan, its scrapes and their failures
    applied = WaitFor(
        [&] {
          auto c = s.mode.applier().Current();
          return c && c->generation == gen;
        },
        10s);
    reported = WaitFor([&] { return s.mode.reporter().reports_sent() >= 3; }, 10s);
    // Every target has been scraped (and refused) a few times.
    WaitFor([&] { return refused >= 6; }, 10s);
  }
  log::Setup("info", "logfmt", "test");
  std::string logs = out.Restore();
  EXPECT_TRUE(applied) << logs;
  EXPECT_TRUE(reported) << logs;
  // The failures were logged (the test saw what it greps)...
  EXPECT_NE(logs.find("scrape plan request failed"), std::string::npos) << logs;
  EXPECT_NE(logs.find("discovery endpoint request forbidden"), std::string::npos) << logs;
  EXPECT_NE(logs.find("scrape failing"), std::string::npos) << logs;
  // ...and no secret with them.
  for (const std::string& secret : {scraper_token, std::string("SIG-scraper-token-secret"), bearer,
                                    password, std::string("TARGETKEYSECRET3")}) {
    EXPECT_EQ(logs.find(secret), std::string::npos) << "leaked " << secret << " in:\n" << logs;
  }
}

}  // namespace
}  // namespace shardwise::opclient
