// MUST SHOW (issue 14): thousands of idle or slow connections — more than the server's
// connection limit — do not stop plans and /readyz from being served. Loopback only; the
// flood is bounded (5,000 connections held for the few requests below).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "common/http/client.h"
#include "common/http/server.h"
#include "common/metrics/registry.h"
#include "operator/endpoint/discovery_endpoint.h"

namespace shardwise::endpoint {
namespace {

constexpr int kIdle = 5000;
constexpr int kSlow = 200;  // of those, send half a request head and then nothing

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

double Metric(const std::string& line_prefix) {
  std::string text = metrics::Registry::Default().Expose();
  size_t at = text.find("\n" + line_prefix + " ");
  if (at == std::string::npos) return 0;
  return std::stod(text.substr(at + line_prefix.size() + 2));
}

TEST(ConnectionFloodTest, IdleAndSlowConnectionsDoNotStopPlansOrReadiness) {
  // Both ends of every connection live in this process: twice the flood in descriptors.
  rlimit lim{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
  rlim_t want = 2 * kIdle + 1000;
  if (lim.rlim_cur < want) {
    if (lim.rlim_max < want) GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << lim.rlim_max;
    lim.rlim_cur = want;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);
  }

  PlanStore plans;
  ReportStore reports;
  DiscoveryEndpoint endpoint(plans, reports);
  http::Server server({});  // the defaults the binaries use (4,096 connections)
  endpoint.Register(server);
  server.HandleExact("/readyz", http::Methods({"GET", "HEAD"}, http::Simple([](auto&) {
                                                return http::Response::Text(200, "ready\n");
                                              })));
  ASSERT_TRUE(server.Start().ok());
  plan::ScrapePlan p;
  p.pool_namespace = "mon";
  p.pool = "main";
  p.shard = 1;
  plans.Publish(ShardKey{"mon", "main", 1, 0}, p);

  std::vector<int> flood;
  for (int i = 0; i < kIdle; ++i) {
    int fd = Connect(server.port());
    ASSERT_GE(fd, 0) << "connection " << i;
    if (i % (kIdle / kSlow) == 0) {
      ASSERT_EQ(::send(fd, "GET /readyz HTTP/1.1\r\n", 22, MSG_NOSIGNAL), 22);
    }
    flood.push_back(fd);
  }

  http::Client client;
  std::string base = "http://" + server.address();
  for (int i = 0; i < 20; ++i) {
    auto ready = client.DoSync({.url = base + "/readyz"});
    ASSERT_TRUE(ready.ok()) << ready.status().ToString();
    EXPECT_EQ(ready->status, 200);
    auto plan = client.DoSync({.url = base + "/api/v1/plans/mon/shardwise-main-0-1"});
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    EXPECT_EQ(plan->status, 200) << plan->body;
  }
  // The policy at work: the oldest idle connections made room.
  EXPECT_GE(Metric("shardwise_http_server_connections_closed_total{reason=\"evicted\"}"),
            kIdle - 4096);
  for (int fd : flood) ::close(fd);
  server.Stop();
}

}  // namespace
}  // namespace shardwise::endpoint
