#include "scraper/scrape/scrape_loop.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <set>

#include "common/http/server.h"
#include "common/testing/local_process.h"
#include "scraper/parse/parser.h"
#include "scraper/scrape/scrape_metrics.h"
#include "scraper/scrape/scrape_test_util.h"
#include "scraper/storage/memory_sink.h"

namespace shardwise::scrape {
namespace {

using namespace std::chrono_literals;
using storage::IsStaleNaN;
using ::testing::HasSubstr;
using testing::MakeTarget;
using testing::ParseJob;
using testing::SeriesOf;
using testing::TempDir;
using testing::WaitFor;

constexpr const char* kBody = "# TYPE requests_total counter\nrequests_total{code=\"200\"} 7\n";

class ScrapeLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Handle("/metrics", http::Simple([this](const http::Request& r) {
                     ++hits_;
                     {
                       std::lock_guard lock(mu_);
                       last_accept_ = std::string(r.Header("Accept"));
                       last_timeout_header_ =
                           std::string(r.Header("X-Prometheus-Scrape-Timeout-Seconds"));
                       last_authorization_ = std::string(r.Header("Authorization"));
                     }
                     return http::Response::Text(200, kBody);
                   }));
    server_.Handle("/gzip", http::Simple([this](const http::Request& r) {
                     bool gzip = r.Header("Accept-Encoding").find("gzip") != std::string_view::npos;
                     if (gzip) ++gzipped_;
                     http::Response resp =
                         http::Response::Text(200, gzip ? testing::Gzip(kBody) : kBody);
                     if (gzip) resp.With("Content-Encoding", "gzip");
                     return resp;
                   }));
    server_.Handle("/big", http::Simple([](const http::Request&) {
                     std::string body;
                     for (int i = 0; i < 200; ++i) body += "series_" + std::to_string(i) + " 1\n";
                     return http::Response::Text(200, body);
                   }));
    server_.Handle("/slow", http::Simple([this](const http::Request&) {
                     std::unique_lock lock(mu_);
                     release_cv_.wait_for(lock, 5s, [this] { return released_; });
                     return http::Response::Text(200, kBody);
                   }));
    server_.Handle("/error", http::Simple([](const http::Request&) {
                     return http::Response::Text(500, "boom");
                   }));
    server_.Handle("/malformed", http::Simple([](const http::Request&) {
                     return http::Response::Text(200, "good 1\nbad{x=\"1\" 2\n");
                   }));
    server_.Handle("/bearer", http::Simple([](const http::Request& r) {
                     if (r.Header("Authorization") != "Bearer s3cret")
                       return http::Response::Text(401, "no");
                     return http::Response::Text(200, kBody);
                   }));
    server_.Handle("/basic", http::Simple([](const http::Request& r) {
                     // base64("user:pass")
                     if (r.Header("Authorization") != "Basic dXNlcjpwYXNz")
                       return http::Response::Text(401, "no");
                     return http::Response::Text(200, kBody);
                   }));
    ASSERT_TRUE(server_.Start().ok());
    address_ = server_.address();
  }
  void TearDown() override {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    release_cv_.notify_all();
    scheduler_->Stop();
    server_.Stop();
  }

  std::shared_ptr<ScrapeLoop> Loop(const std::string& job_yaml) {
    ScrapeConfig config = ParseJob(job_yaml);
    Target target = MakeTarget(config, address_);
    auto metric = relabel::Relabeler::Compile(config.metric_relabel_configs).value();
    return std::make_shared<ScrapeLoop>(target, config, metric, scheduler_, client_, sink_);
  }

  http::Server server_{{}};
  http::Client client_;
  storage::MemorySink sink_;
  std::shared_ptr<Scheduler> scheduler_ = std::make_shared<Scheduler>(2);
  std::string address_;
  std::atomic<int> hits_{0};
  std::atomic<int> gzipped_{0};
  std::mutex mu_;
  std::condition_variable release_cv_;
  bool released_ = false;
  std::string last_accept_, last_timeout_header_, last_authorization_;
};

TEST_F(ScrapeLoopTest, ScrapesWithPrometheusHeaders) {
  auto loop = Loop("{job_name: j, scrape_interval: 10s, scrape_timeout: 3s}");
  IngestResult r = loop->ScrapeOnce();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  const Target& t = loop->target();
  LabelsBuilder b(SeriesOf(t, "requests_total"));
  b.Set("code", "200");
  EXPECT_EQ(sink_.Samples(b.Build()).at(0).v, 7);
  EXPECT_EQ(sink_.Samples(SeriesOf(t, "up")).at(0).v, 1);
  {
    std::lock_guard lock(mu_);
    EXPECT_EQ(last_accept_, parse::kScrapeAcceptHeader);
    EXPECT_EQ(last_timeout_header_, "3");  // as Prometheus formats it
  }
  TargetStatus st = loop->Snapshot();
  EXPECT_EQ(st.health, "up");
  EXPECT_EQ(st.last_error, "");
  EXPECT_EQ(st.series, 1u);
  EXPECT_GT(st.last_scrape.time_since_epoch().count(), 0);
  EXPECT_EQ(st.last_success, st.last_scrape);
}

// One keep-alive connection per target, reused by every scrape, however many targets the
// shared client serves in turn (libcurl's default cache would keep only a few).
TEST_F(ScrapeLoopTest, ReusesOneConnectionPerTarget) {
  constexpr int kTargets = 12;
  constexpr int kRounds = 4;
  std::vector<std::unique_ptr<http::Server>> servers;
  std::mutex peers_mu;
  std::vector<std::set<std::string>> peers(kTargets);
  std::vector<std::shared_ptr<ScrapeLoop>> loops;
  ScrapeConfig config = ParseJob("{job_name: keepalive}");
  auto metric = relabel::Relabeler::Compile({}).value();
  for (int i = 0; i < kTargets; ++i) {
    servers.push_back(std::make_unique<http::Server>(http::Server::Options{}));
    servers.back()->Handle("/metrics", http::Simple([&, i](const http::Request& r) {
                             std::lock_guard lock(peers_mu);
                             peers[i].insert(r.remote_address);
                             return http::Response::Text(200, kBody);
                           }));
    ASSERT_TRUE(servers.back()->Start().ok());
    loops.push_back(std::make_shared<ScrapeLoop>(MakeTarget(config, servers.back()->address()),
                                                 config, metric, scheduler_, client_, sink_));
  }
  for (int round = 0; round < kRounds; ++round) {
    for (auto& loop : loops) ASSERT_TRUE(loop->ScrapeOnce().status.ok());
  }
  {
    std::lock_guard lock(peers_mu);
    for (int i = 0; i < kTargets; ++i) {
      EXPECT_EQ(peers[i].size(), 1u) << "target " << i << " saw a new connection per scrape";
    }
  }
  for (auto& server : servers) server->Stop();
}

TEST_F(ScrapeLoopTest, HttpErrorStatusMeansDown) {
  auto loop = Loop("{job_name: j, metrics_path: /error}");
  IngestResult r = loop->ScrapeOnce();
  EXPECT_FALSE(r.status.ok());
  EXPECT_EQ(sink_.Samples(SeriesOf(loop->target(), "up")).at(0).v, 0);
  TargetStatus st = loop->Snapshot();
  EXPECT_EQ(st.health, "down");
  EXPECT_THAT(st.last_error, HasSubstr("HTTP status 500"));
  EXPECT_EQ(st.last_success.time_since_epoch().count(), 0);
}

TEST_F(ScrapeLoopTest, TimeoutMeansDown) {
  auto loop =
      Loop("{job_name: j, metrics_path: /slow, scrape_interval: 1s, scrape_timeout: 200ms}");
  auto start = std::chrono::steady_clock::now();
  IngestResult r = loop->ScrapeOnce();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  EXPECT_EQ(r.status.code(), Status::Code::kDeadlineExceeded) << r.status.ToString();
  EXPECT_EQ(sink_.Samples(SeriesOf(loop->target(), "up")).at(0).v, 0);
}

TEST_F(ScrapeLoopTest, AcceptsGzip) {
  auto loop = Loop("{job_name: j, metrics_path: /gzip}");
  IngestResult r = loop->ScrapeOnce();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(gzipped_.load(), 1);
  EXPECT_EQ(r.samples_post_relabel, 1u);
}

TEST_F(ScrapeLoopTest, BodySizeLimitFailsTheScrape) {
  auto& hits = ScrapeMetrics::Get().limit_hits.With({"bodylimit", "body_size_limit"});
  double before = hits.Value();
  auto loop = Loop("{job_name: bodylimit, metrics_path: /big, body_size_limit: 1KB}");
  IngestResult r = loop->ScrapeOnce();
  ASSERT_FALSE(r.status.ok());
  EXPECT_THAT(r.status.message(), HasSubstr("body size limit"));
  EXPECT_EQ(hits.Value(), before + 1);
  EXPECT_TRUE(sink_.Samples(SeriesOf(loop->target(), "series_1")).empty());
  auto unlimited = Loop("{job_name: bodylimit, metrics_path: /big, body_size_limit: 1MB}");
  EXPECT_TRUE(unlimited->ScrapeOnce().status.ok());
}

TEST_F(ScrapeLoopTest, SampleLimitCountsAsLimitHit) {
  auto& hits = ScrapeMetrics::Get().limit_hits.With({"samplelimit", "sample_limit"});
  double before = hits.Value();
  auto loop = Loop("{job_name: samplelimit, metrics_path: /big, sample_limit: 100}");
  EXPECT_FALSE(loop->ScrapeOnce().status.ok());
  EXPECT_EQ(hits.Value(), before + 1);
  EXPECT_TRUE(sink_.Samples(SeriesOf(loop->target(), "series_1")).empty());
  EXPECT_EQ(sink_.Samples(SeriesOf(loop->target(), "up")).at(0).v, 0);
}

TEST_F(ScrapeLoopTest, MalformedExpositionIngestsOnlyTheReport) {
  auto loop = Loop("{job_name: j, metrics_path: /malformed}");
  IngestResult r = loop->ScrapeOnce();
  ASSERT_FALSE(r.status.ok());
  TargetStatus st = loop->Snapshot();
  EXPECT_EQ(st.health, "down");
  EXPECT_THAT(st.last_error, HasSubstr("line 2"));
  for (const auto& [labels, samples] : sink_.Series()) {
    EXPECT_TRUE(labels.Get(kMetricName).starts_with("up") ||
                labels.Get(kMetricName).starts_with("scrape_"))
        << labels.ToString();
  }
  EXPECT_EQ(sink_.Samples(SeriesOf(loop->target(), "up")).at(0).v, 0);
}

TEST_F(ScrapeLoopTest, BearerTokenFileIsReadOnEveryScrape) {
  TempDir dir;
  std::string token = dir.File("token", "s3cret\n");
  auto loop = Loop("{job_name: j, metrics_path: /bearer, bearer_token_file: " + token + "}");
  EXPECT_TRUE(loop->ScrapeOnce().status.ok());
  dir.File("token", "rotated");
  IngestResult r = loop->ScrapeOnce();
  EXPECT_THAT(r.status.message(), HasSubstr("401"));
  auto missing =
      Loop("{job_name: j, metrics_path: /bearer, authorization: {credentials_file: " + dir.path() +
           "/nope}}");
  EXPECT_EQ(missing->ScrapeOnce().status.code(), Status::Code::kFailedPrecondition);
}

TEST_F(ScrapeLoopTest, AuthorizationWithCustomType) {
  auto loop = Loop("{job_name: j, authorization: {type: Token, credentials: abc}}");
  ASSERT_TRUE(loop->ScrapeOnce().status.ok());
  std::lock_guard lock(mu_);
  EXPECT_EQ(last_authorization_, "Token abc");
}

TEST_F(ScrapeLoopTest, BasicAuth) {
  TempDir dir;
  std::string pw = dir.File("pw", "pass\n");
  auto loop = Loop(
      "{job_name: j, metrics_path: /basic, basic_auth: {username: user, "
      "password_file: " +
      pw + "}}");
  IngestResult r = loop->ScrapeOnce();
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  auto wrong = Loop(
      "{job_name: j, metrics_path: /basic, basic_auth: {username: user, "
      "password: nope}}");
  EXPECT_FALSE(wrong->ScrapeOnce().status.ok());
}

TEST_F(ScrapeLoopTest, ScheduledLoopScrapesUntilStoppedThenMarksStale) {
  auto loop = Loop("{job_name: j, scrape_interval: 50ms, scrape_timeout: 50ms}");
  loop->Start();
  ASSERT_TRUE(WaitFor([&] { return loop->Snapshot().health == "up" && hits_.load() >= 3; }));
  loop->Stop(/*stale_markers=*/true);
  const Target& t = loop->target();
  auto up = sink_.Samples(SeriesOf(t, "up"));
  ASSERT_GE(up.size(), 3u);
  EXPECT_TRUE(IsStaleNaN(up.back().v));
  LabelsBuilder b(SeriesOf(t, "requests_total"));
  b.Set("code", "200");
  EXPECT_TRUE(IsStaleNaN(sink_.Samples(b.Build()).back().v));
  // Timestamps advance by about the interval.
  EXPECT_GT(up[up.size() - 2].t_ms, up[0].t_ms);
}

TEST_F(ScrapeLoopTest, SilentStopWritesNoMarkers) {
  auto loop = Loop("{job_name: j, scrape_interval: 50ms, scrape_timeout: 50ms}");
  loop->Start();
  ASSERT_TRUE(WaitFor([&] { return loop->Snapshot().health == "up"; }));
  loop->Stop(/*stale_markers=*/false);
  for (const auto& [labels, samples] : sink_.Series()) {
    for (const auto& s : samples) EXPECT_FALSE(IsStaleNaN(s.v)) << labels.ToString();
  }
}

// Stopping a loop whose scrape hangs (another scraper took the target over) cancels the
// request: the target sees its connection closed long before the one-minute scrape timeout,
// and nothing of that scrape is stored, then or later.
TEST_F(ScrapeLoopTest, StopCancelsTheScrapeInFlight) {
  shardwise::testing::SilentListener hung;
  ASSERT_NE(hung.port(), 0);
  ScrapeConfig config = ParseJob("{job_name: j, scrape_interval: 1m, scrape_timeout: 1m}");
  Target target = MakeTarget(config, "127.0.0.1:" + std::to_string(hung.port()));
  // A jitter seed that puts the target's phase, so its first scrape, half a second from
  // now rather than anywhere in the minute.
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const uint64_t seed = target.hash ^ static_cast<uint64_t>((now_ns + int64_t{500'000'000}) %
                                                            std::chrono::nanoseconds(1min).count());
  auto client = std::make_unique<http::Client>();
  auto loop = std::make_shared<ScrapeLoop>(target, config, relabel::Relabeler::Compile({}).value(),
                                           scheduler_, *client, sink_, seed);
  loop->Start();
  const int conn = hung.Accept(10s);
  ASSERT_GE(conn, 0) << "no scrape came";
  loop->Stop(/*stale_markers=*/true);

  EXPECT_TRUE(WaitFor([&] { return shardwise::testing::PeerClosed(conn); }, 30s))
      << "the scrape's connection stayed open after Stop";
  ::close(conn);
  // Every callback of the client has run once it is gone, and so has every scrape they
  // handed to the workers once both workers are free.
  client.reset();
  auto both = std::make_shared<std::latch>(2);
  auto met = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < 2; ++i) {
    scheduler_->Post([both, met] {
      both->arrive_and_wait();
      ++*met;
    });
  }
  ASSERT_TRUE(WaitFor([&] { return met->load() == 2; }, 30s));
  EXPECT_TRUE(sink_.Series().empty()) << "a sample was stored after Stop";
  EXPECT_EQ(loop->Snapshot().health, "unknown");
}

TEST_F(ScrapeLoopTest, OffsetSpreadsTargetsDeterministically) {
  using std::chrono::milliseconds;
  const auto interval = milliseconds(10000);
  const auto now = std::chrono::system_clock::time_point(milliseconds(1'700'000'123'456));
  for (uint64_t hash : {0ull, 1234567ull, 0xdeadbeefcafef00dull}) {
    auto offset = ScrapeLoop::Offset(hash, interval, now);
    EXPECT_GE(offset.count(), 0);
    EXPECT_LE(offset, interval);
    // The first scrape lands on the target's phase within the interval.
    auto first = (now + offset).time_since_epoch();
    auto iv = std::chrono::duration_cast<std::chrono::nanoseconds>(interval).count();
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::nanoseconds>(first).count() % iv,
              static_cast<int64_t>(hash % static_cast<uint64_t>(iv)));
  }
}

TEST(AlignScrapeTimeTest, SnapsJitterWithinToleranceToTheGrid) {
  using std::chrono::microseconds;
  using std::chrono::milliseconds;
  using TimePoint = std::chrono::system_clock::time_point;
  const auto interval = milliseconds(15000);
  const TimePoint first(microseconds(1'700'000'000'123'456));
  TimePoint grid{};
  EXPECT_EQ(ScrapeLoop::AlignScrapeTime(first, interval, &grid), first);
  EXPECT_EQ(grid, first);
  // Late and early by up to 2 ms: stamped exactly one interval further.
  EXPECT_EQ(ScrapeLoop::AlignScrapeTime(first + interval + microseconds(1999), interval, &grid),
            first + interval);
  EXPECT_EQ(ScrapeLoop::AlignScrapeTime(first + 2 * interval - microseconds(1500), interval, &grid),
            first + 2 * interval);
  // Beyond the tolerance the actual time is kept and the grid stays put.
  const TimePoint late = first + 3 * interval + microseconds(2500);
  EXPECT_EQ(ScrapeLoop::AlignScrapeTime(late, interval, &grid), late);
  EXPECT_EQ(grid, first + 2 * interval);
  // A skipped tick lands on the grid point after it.
  EXPECT_EQ(ScrapeLoop::AlignScrapeTime(first + 5 * interval + microseconds(700), interval, &grid),
            first + 5 * interval);
}

TEST(AlignScrapeTimeTest, ToleranceIsOnePercentOfShortIntervals) {
  using std::chrono::microseconds;
  using std::chrono::milliseconds;
  using TimePoint = std::chrono::system_clock::time_point;
  const auto interval = milliseconds(100);  // tolerance 1 ms, not 2
  const TimePoint first(milliseconds(1'700'000'000'000));
  TimePoint grid{};
  ScrapeLoop::AlignScrapeTime(first, interval, &grid);
  EXPECT_EQ(ScrapeLoop::AlignScrapeTime(first + interval + microseconds(900), interval, &grid),
            first + interval);
  const TimePoint late = first + 2 * interval + microseconds(1500);
  EXPECT_EQ(ScrapeLoop::AlignScrapeTime(late, interval, &grid), late);
}

TEST(AlignScrapeTimeTest, ClockStepBackReanchorsTheGrid) {
  using std::chrono::milliseconds;
  using TimePoint = std::chrono::system_clock::time_point;
  const auto interval = milliseconds(15000);
  const TimePoint first(milliseconds(1'700'000'000'000));
  TimePoint grid{};
  ScrapeLoop::AlignScrapeTime(first, interval, &grid);
  const TimePoint back = first - milliseconds(60'000) + milliseconds(7);
  EXPECT_EQ(ScrapeLoop::AlignScrapeTime(back, interval, &grid), back);
  EXPECT_EQ(grid, back);
  EXPECT_EQ(ScrapeLoop::AlignScrapeTime(back + interval + milliseconds(1), interval, &grid),
            back + interval);
}

TEST_F(ScrapeLoopTest, ScheduledScrapesAreStampedOnTheirTicks) {
  // Each tick's timestamp is its grid point or, when the tick ran late by more than the
  // tolerance (a loaded machine), the actual start; either way timestamps strictly increase
  // (snapping never maps two ticks to one point).
  auto loop = Loop("{job_name: j, scrape_interval: 200ms, scrape_timeout: 100ms}");
  loop->Start();
  const Labels up_series = SeriesOf(loop->target(), "up");
  ASSERT_TRUE(WaitFor([&] { return sink_.Samples(up_series).size() >= 3; }));
  loop->Stop(/*stale_markers=*/false);
  auto up = sink_.Samples(up_series);
  for (size_t i = 1; i < up.size(); ++i) EXPECT_GT(up[i].t_ms, up[i - 1].t_ms) << i;
}

class ScrapeLoopTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = dir_.path() + "/cert.pem";
    key_ = dir_.path() + "/key.pem";
    std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
        "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
        key_ + " -out " + cert_ + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    http::Server::Options o;
    o.tls_cert_file = cert_;
    o.tls_key_file = key_;
    server_ = std::make_unique<http::Server>(o);
    server_->Handle("/metrics", http::Simple([](const http::Request&) {
                      return http::Response::Text(200, kBody);
                    }));
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    scheduler_->Stop();
    server_->Stop();
  }
  std::shared_ptr<ScrapeLoop> Loop(const std::string& job_yaml) {
    ScrapeConfig config = ParseJob(job_yaml);
    Target target = MakeTarget(config, server_->address());
    return std::make_shared<ScrapeLoop>(target, config, relabel::Relabeler(), scheduler_, client_,
                                        sink_);
  }

  TempDir dir_;
  std::string cert_, key_;
  std::unique_ptr<http::Server> server_;
  http::Client client_;
  storage::MemorySink sink_;
  std::shared_ptr<Scheduler> scheduler_ = std::make_shared<Scheduler>(1);
};

TEST_F(ScrapeLoopTlsTest, VerifiesWithTheConfiguredCa) {
  auto loop = Loop("{job_name: j, scheme: https, tls_config: {ca_file: " + cert_ + "}}");
  IngestResult r = loop->ScrapeOnce();
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.samples_post_relabel, 1u);
}

TEST_F(ScrapeLoopTlsTest, RejectsAnUnknownCaUnlessTold) {
  auto strict = Loop("{job_name: j, scheme: https}");
  EXPECT_FALSE(strict->ScrapeOnce().status.ok());
  auto insecure = Loop("{job_name: j, scheme: https, tls_config: {insecure_skip_verify: true}}");
  EXPECT_TRUE(insecure->ScrapeOnce().status.ok());
}

TEST_F(ScrapeLoopTlsTest, ServerNameIsPassedThrough) {
  auto loop = Loop("{job_name: j, scheme: https, tls_config: {ca_file: " + cert_ +
                   ", server_name: localhost}}");
  EXPECT_TRUE(loop->ScrapeOnce().status.ok());
  // A mismatching server_name should fail verification, but http::Client does not yet
  // verify against TlsOptions::server_name (it checks the URL host); see docs/scraping.md.
}

}  // namespace
}  // namespace shardwise::scrape

namespace shardwise::scrape {
namespace {

TEST(ScrapeLoopPhaseTest, PhasePointIsTheNearestScheduledInstant) {
  const auto iv = std::chrono::milliseconds(10000);
  const uint64_t hash = 123456789012345ULL;
  const int64_t phase_ms = static_cast<int64_t>(hash % 10000000000ULL) / 1000000;
  const int64_t point = 1700000000000 - 1700000000000 % 10000 + phase_ms;
  EXPECT_EQ(ScrapeLoop::PhasePointMs(hash, iv, point), point);
  EXPECT_EQ(ScrapeLoop::PhasePointMs(hash, iv, point + 3), point);
  EXPECT_EQ(ScrapeLoop::PhasePointMs(hash, iv, point - 3), point);
  EXPECT_EQ(ScrapeLoop::PhasePointMs(hash, iv, point + 6000), point + 10000);
  // Where Offset schedules the next scrape is such a point.
  const auto now = std::chrono::system_clock::time_point(std::chrono::milliseconds(point + 1234));
  const auto next = now + ScrapeLoop::Offset(hash, iv, now);
  const int64_t next_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(next.time_since_epoch()).count();
  EXPECT_EQ(ScrapeLoop::PhasePointMs(hash, iv, next_ms), next_ms);
}

TEST_F(ScrapeLoopTest, ClosedForwardGateScrapesButStoresNothing) {
  ScrapeConfig config = ParseJob("{job_name: j, scrape_interval: 10s}");
  Target target = MakeTarget(config, address_);
  auto gates = std::make_shared<ForwardGates>();
  gates->Set(target.hash, ForwardWindow{.from_ms = std::numeric_limits<int64_t>::max()});
  auto loop = std::make_shared<ScrapeLoop>(target, config, relabel::Relabeler(), scheduler_,
                                           client_, sink_, 0, gates);
  IngestResult r = loop->ScrapeOnce();
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(hits_.load(), 1);
  EXPECT_EQ(sink_.TotalSamples(), 0u);
  EXPECT_EQ(loop->Snapshot().health, "up");
  EXPECT_GT(loop->Snapshot().last_success.time_since_epoch().count(), 0);
  // Never forwarded: stopping writes no staleness markers either.
  loop->Stop(/*stale_markers=*/true);
  EXPECT_EQ(sink_.TotalSamples(), 0u);

  // Opened: the next scrape is stored as usual.
  gates->Clear(target.hash);
  auto open = std::make_shared<ScrapeLoop>(target, config, relabel::Relabeler(), scheduler_,
                                           client_, sink_, 0, gates);
  ASSERT_TRUE(open->ScrapeOnce().status.ok());
  EXPECT_EQ(sink_.Samples(SeriesOf(target, "up")).size(), 1u);
}

}  // namespace
}  // namespace shardwise::scrape
