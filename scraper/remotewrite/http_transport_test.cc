// HttpTransport and QueueManager against a loopback receiver (common/http/server.h).
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>

#include "common/http/server.h"
#include "scraper/remotewrite/encoder.h"
#include "scraper/remotewrite/memory_wal.h"
#include "scraper/remotewrite/queue_manager.h"
#include "scraper/remotewrite/test_receiver.h"
#include "scraper/remotewrite/transport.h"

namespace shardwise::remotewrite {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::Collector;
using testing::ReceivedSample;
using ::testing::StartsWith;

// A remote-write receiver on 127.0.0.1 that checks the protocol headers and answers each
// decoded request with `policy`.
class Receiver {
 public:
  using Policy = std::function<http::Response(const prometheus::WriteRequest&)>;
  explicit Receiver(Policy policy) : server_({}), policy_(std::move(policy)) {
    server_.HandleExact("/api/v1/write", [this](const http::Request& req, http::ResponseWriter& w) {
      w.Send(Handle(req));
    });
    EXPECT_TRUE(server_.Start().ok());
  }
  ~Receiver() { server_.Stop(); }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + "/api/v1/write";
  }

  http::Response Handle(const http::Request& req) {
    {
      std::lock_guard lock(mu_);
      last_headers_ = req.headers;
      attempt_times_.push_back(Clock::now());
    }
    if (req.method != "POST" || req.Header("Content-Encoding") != "snappy" ||
        req.Header("Content-Type") != "application/x-protobuf" ||
        req.Header("X-Prometheus-Remote-Write-Version") != "0.1.0") {
      return http::Response::Text(415, "bad protocol headers");
    }
    auto decoded = testing::DecodeBody(req.body);
    if (!decoded.ok()) return http::Response::Text(400, decoded.status().ToString());
    http::Response resp = policy_(*decoded);
    if (resp.status / 100 == 2) got.Add(*decoded);
    return resp;
  }

  std::string Header(std::string_view name) {
    std::lock_guard lock(mu_);
    return std::string(http::FindHeader(last_headers_, name));
  }
  std::vector<Clock::time_point> attempt_times() {
    std::lock_guard lock(mu_);
    return attempt_times_;
  }

  Collector got;

 private:
  http::Server server_;
  Policy policy_;
  std::mutex mu_;
  http::Headers last_headers_;
  std::vector<Clock::time_point> attempt_times_;
};

http::Response Ok(const prometheus::WriteRequest&) { return http::Response::Text(204, ""); }

bool HasSeries(const prometheus::WriteRequest& req, std::string_view needle) {
  for (const auto& ts : req.timeseries()) {
    if (testing::SeriesString(ts).find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string EncodedRequest(const Labels& labels, int64_t t, double v) {
  WriteRequestEncoder enc;
  std::string encoded_labels, compressed;
  EncodeLabels(labels, &encoded_labels);
  Sample s{t, v};
  enc.AddSeries(encoded_labels, std::span<const Sample>(&s, 1));
  SnappyCompress(enc.bytes(), &compressed);
  return compressed;
}

class HttpTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("rw-http-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  EndpointConfig Endpoint(const std::string& url) {
    EndpointConfig ep;
    ep.url = url;
    ep.name = "loopback";
    ep.remote_timeout = 5s;
    ep.queue.min_shards = ep.queue.max_shards = 1;
    ep.queue.max_samples_per_send = 100;
    ep.queue.capacity = 1000;
    ep.queue.batch_send_deadline = 20ms;
    ep.queue.min_backoff = 5ms;
    ep.queue.max_backoff = 20ms;
    return ep;
  }

  std::filesystem::path dir_;
  http::Client client_;
};

TEST_F(HttpTransportTest, SendsProtocolHeadersAuthAndCustomHeaders) {
  Receiver rx(Ok);
  std::string token_file = (dir_ / "token").string();
  std::ofstream(token_file) << "tok-1\n";
  EndpointConfig ep = Endpoint(rx.url());
  ep.headers = {{"X-Scope-OrgID", "tenant-a"}};
  ep.authorization = http::Authorization{.credentials_file = token_file};
  HttpTransport t(ep, client_);

  SendAttempt a = t.Send(EncodedRequest(Labels{{"__name__", "up"}}, 1000, 1));
  EXPECT_EQ(a.verdict.outcome, SendOutcome::kDelivered) << a.error;
  EXPECT_EQ(rx.Header("Authorization"), "Bearer tok-1");
  EXPECT_EQ(rx.Header("X-Scope-OrgID"), "tenant-a");
  EXPECT_THAT(rx.Header("User-Agent"), StartsWith("shardwise/"));
  ASSERT_EQ(rx.got.size(), 1u);
  EXPECT_EQ(rx.got.Samples()[0], (ReceivedSample{"{__name__=\"up\"}", 1000, 1}));

  std::ofstream(token_file) << "tok-2\n";  // rotated secrets take effect
  t.Send(EncodedRequest(Labels{{"__name__", "up"}}, 2000, 1));
  EXPECT_EQ(rx.Header("Authorization"), "Bearer tok-2");
}

TEST_F(HttpTransportTest, SendsBasicAuth) {
  Receiver rx(Ok);
  EndpointConfig ep = Endpoint(rx.url());
  ep.basic_auth = http::BasicAuth{.username = "user", .password = "pa:ss"};
  HttpTransport t(ep, client_);
  EXPECT_EQ(t.Send(EncodedRequest(Labels{{"a", "b"}}, 1, 1)).verdict.outcome,
            SendOutcome::kDelivered);
  EXPECT_EQ(rx.Header("Authorization"), "Basic dXNlcjpwYTpzcw==");
}

TEST_F(HttpTransportTest, ClassifiesAnswersAndConnectionErrors) {
  int status = 503;
  std::string retry_after;
  Receiver rx([&](const prometheus::WriteRequest&) {
    http::Response r = http::Response::Text(status, "no");
    if (!retry_after.empty()) r.With("Retry-After", retry_after);
    return r;
  });
  HttpTransport t(Endpoint(rx.url()), client_);
  std::string body = EncodedRequest(Labels{{"a", "b"}}, 1, 1);
  EXPECT_EQ(t.Send(body).verdict.outcome, SendOutcome::kRetry);
  status = 400;
  SendAttempt bad = t.Send(body);
  EXPECT_EQ(bad.verdict.outcome, SendOutcome::kDrop);
  EXPECT_EQ(bad.http_status, 400);
  status = 429;
  retry_after = "3";
  SendAttempt limited = t.Send(body);
  EXPECT_EQ(limited.verdict.outcome, SendOutcome::kRetry);
  EXPECT_EQ(limited.verdict.retry_after, 3000ms);

  // Nothing listens on a stopped server's port.
  std::string dead_url;
  {
    http::Server s({});
    ASSERT_TRUE(s.Start().ok());
    dead_url = "http://127.0.0.1:" + std::to_string(s.port()) + "/api/v1/write";
    s.Stop();
  }
  HttpTransport dead(Endpoint(dead_url), client_);
  SendAttempt refused = dead.Send(body);
  EXPECT_EQ(refused.verdict.outcome, SendOutcome::kRetry);
  EXPECT_EQ(refused.http_status, 0);
}

// The receiver rejects batches holding series "bad" with 400 and answers the first try of
// every batch holding series "flaky" with 503.
TEST_F(HttpTransportTest, QueueDropsRejectedBatchesAndRetriesUnavailableOnes) {
  std::mutex mu;
  std::set<int64_t> seen_flaky;
  Receiver rx([&](const prometheus::WriteRequest& req) {
    if (HasSeries(req, "bad")) return http::Response::Text(400, "out of bounds");
    if (HasSeries(req, "flaky")) {
      std::lock_guard lock(mu);
      if (seen_flaky.insert(req.timeseries(0).samples(0).timestamp()).second) {
        return http::Response::Text(503, "busy");
      }
    }
    return http::Response::Text(204, "");
  });
  MemoryWal wal;
  wal.AppendSeries({{1, Labels{{"__name__", "good"}}},
                    {2, Labels{{"__name__", "bad"}}},
                    {3, Labels{{"__name__", "flaky"}}}});
  QueueOptions o;
  o.endpoint = Endpoint(rx.url());
  QueueManager q(o, wal, std::make_unique<HttpTransport>(o.endpoint, client_));
  ASSERT_TRUE(q.Start().ok());
  std::vector<ReceivedSample> want;
  for (int64_t t = 1; t <= 5; ++t) {
    // Each flush sends exactly one batch: one series' samples.
    wal.AppendSamples({{1, t, 1.0}, {1, t + 100, 2.0}});
    want.push_back({"{__name__=\"good\"}", t, 1.0});
    want.push_back({"{__name__=\"good\"}", t + 100, 2.0});
    ASSERT_TRUE(q.Flush(Clock::now() + 10s).ok());
    wal.AppendSamples({{2, t, 3.0}});
    ASSERT_TRUE(q.Flush(Clock::now() + 10s).ok());
    wal.AppendSamples({{3, t, 4.0}});
    want.push_back({"{__name__=\"flaky\"}", t, 4.0});
    ASSERT_TRUE(q.Flush(Clock::now() + 10s).ok());
  }
  std::vector<ReceivedSample> got = rx.got.Samples();
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  QueueStats st = q.Stats();
  EXPECT_EQ(st.samples_failed, 5u);
  EXPECT_EQ(st.batches_failed, 5u);
  EXPECT_EQ(st.samples_retried, 5u);
  EXPECT_EQ(st.samples_sent, 15u);
  EXPECT_GT(st.bytes_sent, 0u);
  EXPECT_EQ(st.cursor, wal.End());
}

TEST_F(HttpTransportTest, QueueHonoursRetryAfterOverItsBackoff) {
  std::atomic<int> calls{0};
  Receiver rx([&](const prometheus::WriteRequest&) {
    if (calls++ == 0) return http::Response::Text(503, "later").With("Retry-After", "1");
    return http::Response::Text(204, "");
  });
  MemoryWal wal;
  wal.AppendSeries({{1, Labels{{"__name__", "m"}}}});
  wal.AppendSamples({{1, 1000, 1.0}});
  QueueOptions o;
  o.endpoint = Endpoint(rx.url());
  o.endpoint.queue.min_backoff = o.endpoint.queue.max_backoff = 60s;  // would miss the flush
  QueueManager q(o, wal, std::make_unique<HttpTransport>(o.endpoint, client_));
  ASSERT_TRUE(q.Start().ok());
  ASSERT_TRUE(q.Flush(Clock::now() + 10s).ok());
  EXPECT_EQ(rx.got.size(), 1u);
  auto times = rx.attempt_times();
  ASSERT_EQ(times.size(), 2u);
  EXPECT_GE(times[1] - times[0], 900ms);  // waited as told, not less
}

// A receiver that accepts connections (the kernel completes the handshake) and never
// answers: the drain deadline must still hold, by cancelling the request in flight.
TEST(HttpDrainTest, StopCancelsARequestToAHangingReceiver) {
  shardwise::testing::SilentListener listener;
  ASSERT_NE(listener.port(), 0);

  http::Client client;
  MemoryWal wal;
  QueueOptions o;
  o.endpoint.url = listener.url() + "/api/v1/write";
  o.endpoint.name = "hanging";
  o.endpoint.remote_timeout = 10min;  // only cancellation can end the request in time
  o.endpoint.queue.batch_send_deadline = 5ms;
  QueueManager q(o, wal, std::make_unique<HttpTransport>(o.endpoint, client));
  ASSERT_TRUE(q.Start().ok());
  wal.AppendSeries({{1, Labels{{"__name__", "up"}}}});
  wal.AppendSamples({{1, 1000, 1}});
  // The request is on the wire once its connection arrives.
  int conn = listener.Accept(10s);
  ASSERT_GE(conn, 0);
  // The drain deadline passes with the request still unanswered.
  EXPECT_EQ(q.Flush(Clock::now() + 100ms).code(), Status::Code::kDeadlineExceeded);
  q.Stop();  // returns only because the request is cancelled
  QueueStats st = q.Stats();
  EXPECT_EQ(st.requests_cancelled, 1u);
  EXPECT_EQ(st.samples_sent, 0u);
  EXPECT_LT(st.cursor, wal.End());  // the sample is not acknowledged: sent again next start
  ::close(conn);
}

}  // namespace
}  // namespace shardwise::remotewrite
