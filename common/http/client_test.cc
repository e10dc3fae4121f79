#include "common/http/client.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <future>
#include <thread>

#include "common/http/server.h"
#include "common/testing/local_process.h"

namespace shardwise::http {
namespace {

using namespace std::chrono_literals;

std::string Gzip(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(compressBound(in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = in.size();
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = out.size();
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Handle("/gzip", Simple([](const Request& r) {
                     Response resp = Response::Text(200, Gzip(std::string(10000, 'a')));
                     resp.With("Content-Encoding", "gzip");
                     return resp;
                   }));
    server_.Handle("/slow", Simple([](const Request&) {
                     std::this_thread::sleep_for(500ms);
                     return Response::Text(200, "late");
                   }));
    server_.Handle("/auth", Simple([](const Request& r) {
                     return Response::Text(200, std::string(r.Header("Authorization")));
                   }));
    server_.Handle("/status", Simple([](const Request&) {
                     return Response::Text(503, "down").With("Retry-After", "7");
                   }));
    ASSERT_TRUE(server_.Start().ok());
    base_ = "http://" + server_.address();
  }
  Server server_{{}};
  Client client_;
  std::string base_;
};

TEST_F(ClientTest, DecompressesGzipAndCapsDecompressedSize) {
  auto r = client_.DoSync({.url = base_ + "/gzip", .accept_gzip = true});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, std::string(10000, 'a'));
  auto capped =
      client_.DoSync({.url = base_ + "/gzip", .max_body_bytes = 5000, .accept_gzip = true});
  EXPECT_EQ(capped.status().code(), Status::Code::kResourceExhausted);
}

TEST_F(ClientTest, TimeoutIsDeadlineExceeded) {
  auto r = client_.DoSync({.url = base_ + "/slow", .timeout = 100ms});
  EXPECT_EQ(r.status().code(), Status::Code::kDeadlineExceeded);
}

TEST_F(ClientTest, ConnectionRefusedIsUnavailable) {
  Server tmp({});
  ASSERT_TRUE(tmp.Start().ok());
  std::string url = "http://" + tmp.address() + "/";
  tmp.Stop();
  EXPECT_EQ(client_.DoSync({.url = url}).status().code(), Status::Code::kUnavailable);
}

// Cancel on a request of Do: `done` gets Aborted and the server sees the connection closed,
// long before the request's own timeout.
TEST_F(ClientTest, CancelAbortsARequestInFlightAndClosesItsConnection) {
  testing::SilentListener hung;
  ASSERT_NE(hung.port(), 0);
  std::promise<Status> done;
  const Client::StreamId id =
      client_.Do({.url = hung.url() + "/metrics", .timeout = 10min},
                 [&](Result<ClientResponse> r) { done.set_value(r.status()); });
  const int conn = hung.Accept(10s);
  ASSERT_GE(conn, 0);
  client_.Cancel(id);
  EXPECT_TRUE(testing::WaitFor([&] { return testing::PeerClosed(conn); }, 30s));
  ::close(conn);
  EXPECT_EQ(done.get_future().get().code(), Status::Code::kAborted);
  client_.Cancel(id);  // finished: nothing happens
}

TEST_F(ClientTest, SendsBearerAndBasicAuth) {
  EXPECT_EQ(client_.DoSync({.url = base_ + "/auth", .bearer_token = "tok"})->body, "Bearer tok");
  ClientRequest basic{.url = base_ + "/auth"};
  basic.basic_auth = std::make_pair("user", "pass");
  EXPECT_EQ(client_.DoSync(basic)->body, "Basic dXNlcjpwYXNz");
}

TEST_F(ClientTest, ErrorStatusIsAResponseWithHeaders) {
  auto r = client_.DoSync({.url = base_ + "/status"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->Header("retry-after"), "7");
}

TEST_F(ClientTest, ManyConcurrentRequests) {
  std::atomic<int> ok{0};
  std::promise<void> all;
  constexpr int kN = 200;
  std::atomic<int> left{kN};
  for (int i = 0; i < kN; ++i) {
    client_.Do({.url = base_ + "/auth"}, [&](Result<ClientResponse> r) {
      if (r.ok() && r->status == 200) ++ok;
      if (--left == 0) all.set_value();
    });
  }
  all.get_future().wait();
  EXPECT_EQ(ok.load(), kN);
}

}  // namespace
}  // namespace shardwise::http
