// Client against a scripted Transport: URLs, bodies, headers, error mapping, retries.
#include "operator/kube/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <mutex>

#include "operator/kube/retry.h"

namespace shardwise::kube {
namespace {

using testing::HasSubstr;

class FakeTransport : public Transport {
 public:
  using Handler = std::function<Result<HttpResponse>(const HttpRequest&)>;

  void Reply(int status, std::string body, http::Headers headers = {}) {
    std::lock_guard lock(mu_);
    replies_.push_back(HttpResponse{status, std::move(headers), std::move(body)});
  }
  void FailConnection() {
    std::lock_guard lock(mu_);
    replies_.push_back(Status::Unavailable("connection refused"));
  }
  std::vector<HttpRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  HttpRequest last() {
    std::lock_guard lock(mu_);
    return requests_.back();
  }

  Result<HttpResponse> Do(const HttpRequest& request) override {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    if (replies_.empty()) return HttpResponse{500, {}, "no scripted reply"};
    auto reply = std::move(replies_.front());
    replies_.pop_front();
    return reply;
  }

  struct FakeStream : StreamHandle {
    bool cancelled = false;
    void Cancel() override { cancelled = true; }
  };
  std::unique_ptr<StreamHandle> Stream(const HttpRequest& request,
                                       std::function<bool(std::string_view)> on_data,
                                       std::function<void(Result<HttpResponse>)> on_done) override {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    on_data_ = std::move(on_data);
    on_done_ = std::move(on_done);
    return std::make_unique<FakeStream>();
  }
  bool Push(std::string_view chunk) { return on_data_(chunk); }
  void End(Result<HttpResponse> response) { on_done_(std::move(response)); }

 private:
  std::mutex mu_;
  std::deque<Result<HttpResponse>> replies_;
  std::vector<HttpRequest> requests_;
  std::function<bool(std::string_view)> on_data_;
  std::function<void(Result<HttpResponse>)> on_done_;
};

Config TestConfig() {
  Config config;
  config.server = "http://127.0.0.1:1";
  config.bearer_token = "secret";
  config.qps = 0;  // unlimited unless a test says otherwise
  return config;
}

Client::Options FastRetries() {
  Client::Options options;
  options.initial_backoff = std::chrono::milliseconds(1);
  options.max_backoff = std::chrono::milliseconds(2);
  return options;
}

class ClientTest : public testing::Test {
 protected:
  std::shared_ptr<FakeTransport> transport_ = std::make_shared<FakeTransport>();
  Client client_{TestConfig(), transport_, FastRetries()};
};

TEST_F(ClientTest, GetBuildsThePathAndSendsAuth) {
  transport_->Reply(200, R"({"kind":"Deployment","metadata":{"name":"web"}})");
  auto deployment = client_.Get(resources::kDeployments, "prod", "web");
  ASSERT_TRUE(deployment.ok()) << deployment.error().ToString();
  EXPECT_EQ(NameOf(*deployment), "web");
  const auto request = transport_->last();
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target, "/apis/apps/v1/namespaces/prod/deployments/web");
  EXPECT_EQ(http::FindHeader(request.headers, "authorization"), "Bearer secret");
  EXPECT_EQ(http::FindHeader(request.headers, "accept"), "application/json");
}

TEST_F(ClientTest, CoreAndClusterScopedPaths) {
  transport_->Reply(200, "{}");
  transport_->Reply(200, "{}");
  ASSERT_TRUE(client_.Get(resources::kPods, "default", "p", "status").ok());
  EXPECT_EQ(transport_->last().target, "/api/v1/namespaces/default/pods/p/status");
  ASSERT_TRUE(client_.Get(resources::kNamespaces, "", "kube-system").ok());
  EXPECT_EQ(transport_->last().target, "/api/v1/namespaces/kube-system");
}

TEST_F(ClientTest, ListSendsSelectorsAndFillsItemKinds) {
  transport_->Reply(200, R"({"kind":"PodList","apiVersion":"v1",)"
                         R"("metadata":{"resourceVersion":"42","continue":"tok"},)"
                         R"("items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})");
  ListOptions options;
  options.label_selector = "app in (web,db),tier!=x";
  options.field_selector = "metadata.name=a";
  options.limit = 2;
  auto list = client_.List(resources::kPods, "ns", options);
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  EXPECT_EQ(transport_->last().target,
            "/api/v1/namespaces/ns/pods?labelSelector=app%20in%20%28web%2Cdb%29%2Ctier%21%3Dx"
            "&fieldSelector=metadata.name%3Da&limit=2");
  EXPECT_EQ(list->resource_version, "42");
  EXPECT_EQ(list->continue_token, "tok");
  ASSERT_EQ(list->items.size(), 2u);
  EXPECT_EQ(list->items[0]["kind"], "Pod");
  EXPECT_EQ(list->items[0]["apiVersion"], "v1");
}

TEST_F(ClientTest, ListAllFollowsContinueTokens) {
  transport_->Reply(200, R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7",)"
                         R"("continue":"c1"},"items":[{"metadata":{"name":"a"}}]})");
  transport_->Reply(200,
                    R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"},)"
                    R"("items":[{"metadata":{"name":"b"}}]})");
  ListOptions options;
  options.limit = 1;
  auto all = client_.ListAll(resources::kPods, "", options);
  ASSERT_TRUE(all.ok()) << all.error().ToString();
  ASSERT_EQ(all->items.size(), 2u);
  EXPECT_EQ(all->resource_version, "7");
  EXPECT_EQ(transport_->last().target, "/api/v1/pods?limit=1&continue=c1");
}

TEST_F(ClientTest, WritesUseTheRightVerbsAndContentTypes) {
  for (int i = 0; i < 5; ++i) transport_->Reply(200, "{}");
  Object cm = {{"metadata", {{"name", "c"}, {"resourceVersion", "5"}}}};
  WriteOptions write;
  write.field_manager = "shardwise";
  write.dry_run = true;
  ASSERT_TRUE(client_.Create(resources::kConfigMaps, "ns", cm, write).ok());
  auto request = transport_->last();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/api/v1/namespaces/ns/configmaps?fieldManager=shardwise&dryRun=All");
  EXPECT_EQ(http::FindHeader(request.headers, "content-type"), "application/json");
  EXPECT_EQ(nlohmann::json::parse(request.body), cm);

  ASSERT_TRUE(client_.Update(resources::kConfigMaps, "ns", cm).ok());
  EXPECT_EQ(transport_->last().method, "PUT");
  EXPECT_EQ(transport_->last().target, "/api/v1/namespaces/ns/configmaps/c");

  ASSERT_TRUE(client_.UpdateScale(resources::kScrapePools, "ns", cm).ok());
  EXPECT_EQ(transport_->last().target,
            "/apis/shardwise.io/v1alpha1/namespaces/ns/scrapepools/c/scale");

  ASSERT_TRUE(client_.Apply(resources::kConfigMaps, "ns", cm, "shardwise", true).ok());
  request = transport_->last();
  EXPECT_EQ(request.method, "PATCH");
  EXPECT_EQ(request.target, "/api/v1/namespaces/ns/configmaps/c?fieldManager=shardwise&force=true");
  EXPECT_EQ(http::FindHeader(request.headers, "content-type"), "application/apply-patch+yaml");

  ASSERT_TRUE(client_
                  .Patch(resources::kScrapePools, "ns", "c", PatchType::kJson,
                         nlohmann::json::array(
                             {{{"op", "replace"}, {"path", "/spec/shards"}, {"value", 3}}}),
                         {}, "status")
                  .ok());
  request = transport_->last();
  EXPECT_EQ(request.target, "/apis/shardwise.io/v1alpha1/namespaces/ns/scrapepools/c/status");
  EXPECT_EQ(http::FindHeader(request.headers, "content-type"), "application/json-patch+json");

  EXPECT_TRUE(client_.Apply(resources::kConfigMaps, "ns", cm, "").error().IsInvalid());
}

TEST_F(ClientTest, DeleteSendsPolicyAndPreconditions) {
  transport_->Reply(200, R"({"kind":"Status","status":"Success"})");
  DeleteOptions options;
  options.propagation_policy = "Foreground";
  options.precondition_uid = "u-1";
  options.precondition_resource_version = "9";
  ASSERT_TRUE(client_.Delete(resources::kStatefulSets, "ns", "s", options).ok());
  const auto request = transport_->last();
  EXPECT_EQ(request.method, "DELETE");
  const auto body = nlohmann::json::parse(request.body);
  EXPECT_EQ(body["propagationPolicy"], "Foreground");
  EXPECT_EQ(body["preconditions"]["uid"], "u-1");
  EXPECT_EQ(body["preconditions"]["resourceVersion"], "9");
}

TEST_F(ClientTest, ServerStatusBecomesTypedError) {
  transport_->Reply(404, R"({"kind":"Status","reason":"NotFound","code":404,)"
                         R"("message":"pods \"x\" not found"})");
  auto result = client_.Get(resources::kPods, "ns", "x");
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.error().IsNotFound());
  EXPECT_EQ(result.error().message(), "pods \"x\" not found");
  EXPECT_EQ(result.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(transport_->requests().size(), 1u);  // not retried
}

TEST_F(ClientTest, RetriesTooManyRequestsForAnyVerbHonouringRetryAfter) {
  transport_->Reply(429, R"({"kind":"Status","reason":"TooManyRequests","code":429,"message":"x"})",
                    {{"Retry-After", "0"}});
  transport_->Reply(201, R"({"metadata":{"name":"c"}})");
  auto created = client_.Create(resources::kConfigMaps, "ns", {{"metadata", {{"name", "c"}}}});
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_EQ(transport_->requests().size(), 2u);
}

TEST_F(ClientTest, RetriesServerAndConnectionErrorsOnlyWhenSafe) {
  transport_->Reply(500, "boom");
  transport_->FailConnection();
  transport_->Reply(200, "{}");
  ASSERT_TRUE(client_.Get(resources::kPods, "ns", "p").ok());
  EXPECT_EQ(transport_->requests().size(), 3u);

  transport_->Reply(500, "boom");
  auto created = client_.Create(resources::kPods, "ns", {{"metadata", {{"name", "p"}}}});
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().reason(), Reason::kInternalError);
  EXPECT_EQ(transport_->requests().size(), 4u);  // a POST is not repeated blindly
}

TEST_F(ClientTest, GivesUpAfterMaxRetries) {
  for (int i = 0; i < 10; ++i) transport_->FailConnection();
  auto result = client_.Get(resources::kPods, "ns", "p");
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.error().IsConnection());
  EXPECT_EQ(transport_->requests().size(), 6u);  // 1 + max_retries
}

TEST_F(ClientTest, RateLimiterSpacesRequests) {
  Config config = TestConfig();
  config.qps = 50;
  config.burst = 1;
  Client limited(config, transport_, FastRetries());
  for (int i = 0; i < 3; ++i) transport_->Reply(200, "{}");
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(limited.Get(resources::kPods, "ns", "p").ok());
  // Two tokens had to refill at 50/s: at least 40 ms (a lower bound, not a timing assertion).
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(39));
}

TEST_F(ClientTest, WatchDeliversEventsAndEndErrors) {
  WatchOptions options;
  options.resource_version = "10";
  options.timeout_seconds = 60;
  auto stream = client_.Watch(resources::kPods, "ns", options);
  EXPECT_EQ(transport_->last().target,
            "/api/v1/namespaces/ns/pods?watch=true&resourceVersion=10&allowWatchBookmarks=true"
            "&timeoutSeconds=60");
  EXPECT_TRUE(transport_->Push(R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})"
                               "\n"
                               R"({"type":"BOOKMARK","object":{"metadata":)"));
  auto event = stream->Next(std::chrono::milliseconds(1000));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->type, WatchEvent::Type::kAdded);
  EXPECT_FALSE(stream->Next(std::chrono::milliseconds(1)).has_value());  // half a line
  transport_->Push(R"({"resourceVersion":"11"}}})"
                   "\n");
  event = stream->Next(std::chrono::milliseconds(1000));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->type, WatchEvent::Type::kBookmark);
  transport_->End(HttpResponse{
      403, {}, R"({"kind":"Status","reason":"Forbidden","code":403,"message":"denied"})"});
  EXPECT_FALSE(stream->Next(std::chrono::milliseconds(1000)).has_value());
  EXPECT_TRUE(stream->ended());
  ASSERT_TRUE(stream->end_error().has_value());
  EXPECT_TRUE(stream->end_error()->IsForbidden());
}

TEST_F(ClientTest, RetryOnConflictRerunsUntilTheWriteWins) {
  int attempts = 0;
  auto result = RetryOnConflict<int>(RetryPolicy{}, [&]() -> ApiResult<int> {
    if (++attempts < 3) return ApiError(Reason::kConflict, 409, "modified");
    return attempts;
  });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 3);

  attempts = 0;
  auto not_found = RetryOnConflict<int>(RetryPolicy{}, [&]() -> ApiResult<int> {
    ++attempts;
    return ApiError(Reason::kNotFound, 404, "gone");
  });
  EXPECT_TRUE(not_found.error().IsNotFound());
  EXPECT_EQ(attempts, 1);

  attempts = 0;
  auto always = RetryOnConflict<int>(RetryPolicy{.attempts = 4}, [&]() -> ApiResult<int> {
    ++attempts;
    return ApiError(Reason::kConflict, 409, "modified");
  });
  EXPECT_TRUE(always.error().IsConflict());
  EXPECT_EQ(attempts, 4);
}

}  // namespace
}  // namespace shardwise::kube
