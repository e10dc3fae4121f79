// End to end against the real Prometheus (Debian's 2.42 on PATH): Prometheus reads our DB
// through remote_read, and PromQL over what it read must give back exactly what we
// ingested.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/http/client.h"
#include "common/http/server.h"
#include "scraper/tsdb/api/handlers.h"
#include "scraper/tsdb/db.h"
#include "scraper/tsdb/testutil.h"

namespace shardwise::tsdb {
namespace {

using Clock = std::chrono::steady_clock;

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string candidate = p.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class PrometheusProcess {
 public:
  ~PrometheusProcess() { Stop(); }

  bool Start(const std::string& binary, const std::string& dir, int port) {
    std::string log = dir + "/prometheus.log";
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      std::string config = "--config.file=" + dir + "/prometheus.yml";
      std::string storage = "--storage.tsdb.path=" + dir + "/data";
      std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
      ::execl(binary.c_str(), binary.c_str(), config.c_str(), storage.c_str(), listen.c_str(),
              "--log.level=warn", static_cast<char*>(nullptr));
      _exit(127);
    }
    return true;
  }

  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    auto deadline = Clock::now() + std::chrono::seconds(10);
    int status;
    while (Clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a child's exit
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  bool Running() {
    int status;
    return pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == 0;
  }

 private:
  pid_t pid_ = -1;
};

TEST(PrometheusIntegrationTest, RateOverRemoteReadMatchesIngestedCounter) {
  std::string binary = FindOnPath("prometheus");
  if (binary.empty()) GTEST_SKIP() << "prometheus not on PATH";
  testing::TempDir dir("prom_it");

  // A counter growing by 10 every 15 s for the last 10 minutes: rate = 2/3 per second.
  DBOptions o;
  o.retention_interval = std::chrono::milliseconds(0);
  auto db = DB::Open(dir.path() + "/shardwise", o);
  ASSERT_TRUE(db.ok());
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t last_t = now_ms / 15'000 * 15'000;
  const int kSamples = 40;
  storage::SeriesRef ref = 0, other = 0;
  for (int k = 0; k < kSamples; ++k) {
    auto app = (*db)->NewAppender();
    int64_t t = last_t - (kSamples - 1 - k) * 15'000;
    ASSERT_TRUE(app->Append(ref, Labels{{"__name__", "shardwise_it_requests_total"}, {"job", "it"}},
                            t, 10.0 * k)
                    .ok());
    ASSERT_TRUE(
        app->Append(other, Labels{{"__name__", "shardwise_it_other"}, {"job", "it"}}, t, 1).ok());
    ASSERT_TRUE(app->Commit().ok());
  }

  http::Server server({.listen_address = "127.0.0.1:0"});
  api::RegisterHttpHandlers(server, **db);
  ASSERT_TRUE(server.Start().ok());

  int prom_port = FreePort();
  {
    std::ofstream cfg(dir.path() + "/prometheus.yml");
    cfg << "global:\n  scrape_interval: 1h\n  evaluation_interval: 1h\n"
        << "remote_read:\n  - url: http://127.0.0.1:" << server.port() << "/api/v1/read\n"
        << "    read_recent: true\n";
  }
  PrometheusProcess prom;
  ASSERT_TRUE(prom.Start(binary, dir.path(), prom_port));
  std::string base = "http://127.0.0.1:" + std::to_string(prom_port);

  http::Client client;
  auto deadline = Clock::now() + std::chrono::seconds(45);
  bool ready = false;
  while (Clock::now() < deadline && prom.Running()) {
    auto r = client.DoSync({.url = base + "/-/ready", .timeout = std::chrono::milliseconds(1000)});
    if (r.ok() && r->status == 200) {
      ready = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // readiness poll interval
  }
  if (!ready) {
    std::ifstream log(dir.path() + "/prometheus.log");
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    FAIL() << "prometheus not ready; log:\n" << text;
  }

  auto query = [&](const std::string& promql) -> nlohmann::json {
    std::string url = base + "/api/v1/query?query=" + http::PercentEncode(promql) +
                      "&time=" + std::to_string(last_t / 1000) + "." +
                      std::to_string(1000 + last_t % 1000).substr(1);
    auto r = client.DoSync({.url = url});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    EXPECT_EQ(r->status, 200) << r->body;
    return nlohmann::json::parse(r->body);
  };

  auto rate = query("rate(shardwise_it_requests_total[1m])");
  ASSERT_EQ(rate["status"], "success") << rate.dump();
  ASSERT_EQ(rate["data"]["result"].size(), 1u) << rate.dump();
  const auto& series = rate["data"]["result"][0];
  EXPECT_EQ(series["metric"]["job"], "it");
  double got = std::stod(series["value"][1].get<std::string>());
  EXPECT_NEAR(got, 10.0 / 15.0, 1e-9) << rate.dump();

  auto raw = query("shardwise_it_requests_total");
  ASSERT_EQ(raw["data"]["result"].size(), 1u) << raw.dump();
  EXPECT_EQ(raw["data"]["result"][0]["value"][1], std::to_string(10 * (kSamples - 1)));

  auto increase = query("increase(shardwise_it_requests_total[5m])");
  ASSERT_EQ(increase["data"]["result"].size(), 1u);
  EXPECT_NEAR(std::stod(increase["data"]["result"][0]["value"][1].get<std::string>()), 200.0, 1e-6);
  // Matchers travel through remote read: a selector that matches nothing returns nothing.
  auto none = query("shardwise_it_requests_total{job=\"other\"}");
  EXPECT_EQ(none["data"]["result"].size(), 0u);

  prom.Stop();
  server.Stop();
}

}  // namespace
}  // namespace shardwise::tsdb
