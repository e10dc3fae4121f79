#include "operator/endpoint/scraper_auth.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/http/client.h"
#include "operator/endpoint/discovery_endpoint.h"

namespace shardwise::endpoint {
namespace {

using namespace std::chrono_literals;
using Clock = TokenReviewer::Clock;

std::string Base64Url(const std::string& s) {
  std::string b = Base64Encode(s);
  std::replace(b.begin(), b.end(), '+', '-');
  std::replace(b.begin(), b.end(), '/', '_');
  while (!b.empty() && b.back() == '=') b.pop_back();
  return b;
}

// A token shaped like a projected ServiceAccount token (the signature is not checked here:
// only the fake API server below decides whether it is valid).
std::string Jwt(const std::string& id, nlohmann::json aud, Clock::time_point exp) {
  nlohmann::json claims = {
      {"aud", std::move(aud)},
      {"exp", std::chrono::duration_cast<std::chrono::seconds>(exp.time_since_epoch()).count()},
      {"jti", id}};
  return Base64Url(R"({"alg":"RS256"})") + "." + Base64Url(claims.dump()) + ".sig";
}

TokenIdentity ServiceAccount(const std::string& ns, const std::string& name,
                             const std::string& pod) {
  TokenIdentity id;
  id.authenticated = true;
  id.username = "system:serviceaccount:" + ns + ":" + name;
  id.pod_name = pod;
  ParseServiceAccountUsername(&id);
  return id;
}

// The API server's TokenReview, faked: a table of the tokens it knows. Tests add tokens
// while the endpoint's server threads review others, hence the lock.
struct FakeApiServer {
  std::atomic<int> calls{0};
  std::atomic<bool> down{false};
  void Know(const std::string& token, TokenIdentity identity) {
    std::lock_guard lock(mu);
    known[token] = std::move(identity);
  }
  TokenReviewer::ReviewFn Fn() {
    return [this](const std::string& token) -> Result<TokenIdentity> {
      ++calls;
      if (down) return Status::Unavailable("connection refused");
      std::lock_guard lock(mu);
      auto it = known.find(token);
      if (it != known.end()) return it->second;
      TokenIdentity refused;
      refused.error = "invalid bearer token";
      return refused;
    };
  }

 private:
  std::mutex mu;
  std::map<std::string, TokenIdentity> known;
};

class TokenReviewerTest : public ::testing::Test {
 protected:
  TokenReviewer::Options Opts() {
    TokenReviewer::Options o;
    o.now = [this] { return now_; };
    return o;
  }
  Clock::time_point now_ = Clock::time_point(std::chrono::seconds(1'800'000'000));
  FakeApiServer api_;
};

TEST_F(TokenReviewerTest, RefusesMalformedForeignAndExpiredTokensWithoutAskingTheApiServer) {
  TokenReviewer r(api_.Fn(), Opts());
  for (const std::string& bad :
       {std::string("not-a-jwt"), std::string("a.b"), std::string("a.%%%.c"),
        Jwt("1", "kubernetes", now_ + 1h), Jwt("2", nlohmann::json::array({"api", "x"}), now_ + 1h),
        Jwt("3", "shardwise", now_ - 1s)}) {
    auto got = r.Review(bad);
    ASSERT_TRUE(got.ok());
    EXPECT_FALSE(got->authenticated) << bad;
    EXPECT_FALSE(got->error.empty());
  }
  EXPECT_EQ(api_.calls, 0);
}

TEST_F(TokenReviewerTest, CachesAnswersBrieflyAndNeverPastExpiry) {
  TokenReviewer r(api_.Fn(), Opts());
  std::string good = Jwt("g", nlohmann::json::array({"shardwise"}), now_ + 60s);
  api_.Know(good, ServiceAccount("mon", "shardwise-main-scraper", "shardwise-main-0-1"));
  std::string unknown = Jwt("u", "shardwise", now_ + 1h);
  for (int i = 0; i < 3; ++i) {
    auto ok = r.Review(good);
    ASSERT_TRUE(ok.ok());
    EXPECT_TRUE(ok->authenticated);
    EXPECT_EQ(ok->service_account_namespace, "mon");
    EXPECT_EQ(ok->service_account_name, "shardwise-main-scraper");
    EXPECT_FALSE(r.Review(unknown)->authenticated);
  }
  EXPECT_EQ(api_.calls, 2);  // one review each, then the cache
  now_ += 11s;               // past the negative TTL only
  EXPECT_FALSE(r.Review(unknown)->authenticated);
  EXPECT_TRUE(r.Review(good)->authenticated);
  EXPECT_EQ(api_.calls, 3);
  now_ += 50s;  // the token's own expiry (60 s) comes before the 2 min cap
  EXPECT_FALSE(r.Review(good)->authenticated);
  EXPECT_EQ(api_.calls, 3);  // refused by its claims
}

TEST_F(TokenReviewerTest, AFailedReviewIsAnErrorAndIsNotCached) {
  TokenReviewer r(api_.Fn(), Opts());
  std::string good = Jwt("g", "shardwise", now_ + 1h);
  api_.Know(good, ServiceAccount("mon", "x", ""));
  api_.down = true;
  EXPECT_EQ(r.Review(good).status().code(), Status::Code::kUnavailable);
  api_.down = false;
  EXPECT_TRUE(r.Review(good)->authenticated);
}

// The discovery endpoint with ScraperAuth in front, over HTTP.
class ScraperAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plan::ScrapePlan p;
    p.pool_namespace = "mon";
    p.pool = "main";
    p.shard = 1;
    plans_.Publish(ShardKey{"mon", "main", 1, 0}, p);
    reports_.SetAdmission([](const ShardKey&) { return true; });
    endpoint_.SetAuthorizer(
        [this](const http::Request& r, const Access& a) { return auth_.Check(r, a); });
    endpoint_.Register(server_);
    ASSERT_TRUE(server_.Start().ok());
  }

  std::string Token(const std::string& name, TokenIdentity identity) {
    std::string t = Jwt(name, "shardwise", Clock::now() + 1h);
    api_.Know(t, std::move(identity));
    return t;
  }

  int Get(const std::string& path, const std::string& token, http::ClientResponse* out = nullptr) {
    http::ClientRequest req{.url = "http://" + server_.address() + path};
    if (!token.empty()) req.bearer_token = token;
    auto r = client_.DoSync(req);
    if (!r.ok()) return -1;
    if (out) *out = *r;
    return r->status;
  }

  int PostReport(const std::string& pod, const std::string& token) {
    plan::LoadReport rep;
    rep.pod = pod;
    rep.shard = 1;
    http::ClientRequest req{.method = "POST",
                            .url = "http://" + server_.address() + "/api/v1/reports/mon/" + pod,
                            .body = plan::ToJson(rep).dump()};
    if (!token.empty()) req.bearer_token = token;
    auto r = client_.DoSync(req);
    return r.ok() ? r->status : -1;
  }

  FakeApiServer api_;
  TokenReviewer reviewer_{api_.Fn(), {}};
  ScraperAuth auth_{reviewer_};
  PlanStore plans_;
  ReportStore reports_;
  DiscoveryEndpoint endpoint_{plans_, reports_};
  http::Server server_{{}};
  http::Client client_;
  const std::string plan_ = "/api/v1/plans/mon/shardwise-main-0-1";
};

TEST_F(ScraperAuthTest, NoOrInvalidTokenIs401) {
  http::ClientResponse r;
  EXPECT_EQ(Get(plan_, "", &r), 401);
  EXPECT_EQ(r.Header("WWW-Authenticate"), "Bearer realm=\"shardwise\"");
  EXPECT_EQ(Get(plan_, "garbage"), 401);
  EXPECT_EQ(Get(plan_, Jwt("x", "shardwise", Clock::now() + 1h)), 401);  // API server: no
  EXPECT_EQ(Get(plan_, Jwt("y", "other", Clock::now() + 1h)), 401);
  EXPECT_EQ(Get(plan_, Jwt("z", "shardwise", Clock::now() - 1s)), 401);
  EXPECT_EQ(PostReport("shardwise-main-0-1", ""), 401);
  EXPECT_EQ(Get("/api/v1/http_sd/mon/main/1", ""), 401);
  EXPECT_FALSE(reports_.Get(ShardKey{"mon", "main", 1, 0}));
}

TEST_F(ScraperAuthTest, OnlyThePodItselfGetsItsPlanAndPostsItsReport) {
  std::string own =
      Token("own", ServiceAccount("mon", "shardwise-main-scraper", "shardwise-main-0-1"));
  std::string sibling =
      Token("sibling", ServiceAccount("mon", "shardwise-main-scraper", "shardwise-main-0-2"));
  std::string other_sa = Token("other", ServiceAccount("mon", "default", "shardwise-main-0-1"));
  std::string other_ns =
      Token("ns", ServiceAccount("web", "shardwise-main-scraper", "shardwise-main-0-1"));
  std::string unbound = Token("unbound", ServiceAccount("mon", "shardwise-main-scraper", ""));
  TokenIdentity user;
  user.authenticated = true;
  user.username = "alice";
  std::string human = Token("human", user);

  EXPECT_EQ(Get(plan_, own), 200);
  EXPECT_EQ(PostReport("shardwise-main-0-1", own), 204);
  for (const auto& t : {sibling, other_sa, other_ns, unbound, human}) {
    EXPECT_EQ(Get(plan_, t), 403);
    EXPECT_EQ(PostReport("shardwise-main-0-1", t), 403);
  }
  http::ClientResponse r;
  EXPECT_EQ(Get(plan_, sibling, &r), 403);
  EXPECT_NE(r.body.find("its own plan"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find(sibling), std::string::npos);  // the token never comes back
  // The sibling uses its own plan path (no plan yet for shard 2: 404 after the check).
  EXPECT_EQ(Get("/api/v1/plans/mon/shardwise-main-0-2", sibling), 404);
  // http_sd: any ServiceAccount of the pool's namespace.
  EXPECT_EQ(Get("/api/v1/http_sd/mon/main/1", other_sa), 200);
  EXPECT_EQ(Get("/api/v1/http_sd/mon/main/1", other_ns), 403);
  EXPECT_EQ(Get("/api/v1/http_sd/mon/main/1", human), 403);
}

TEST_F(ScraperAuthTest, ApiServerTroubleIs503NotAnOpenDoor) {
  std::string own =
      Token("own", ServiceAccount("mon", "shardwise-main-scraper", "shardwise-main-0-1"));
  api_.down = true;
  EXPECT_EQ(Get(plan_, own), 503);
  api_.down = false;
  EXPECT_EQ(Get(plan_, own), 200);
}

}  // namespace
}  // namespace shardwise::endpoint
