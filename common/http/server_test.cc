#include "common/http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <thread>

#include "common/http/client.h"

namespace shardwise::http {
namespace {

using namespace std::chrono_literals;

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds deadline = 5000ms) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

TEST(ServerTest, RoutesExactThenLongestPrefix) {
  Server s({});
  s.HandleExact("/metrics", Simple([](const Request&) { return Response::Text(200, "exact"); }));
  s.Handle("/api/", Simple([](const Request&) { return Response::Text(200, "api"); }));
  s.Handle("/api/v1/", Simple([](const Request& r) {
             return Response::Text(200, "v1 " + r.path + " " + r.Param("q"));
           }));
  ASSERT_TRUE(s.Start().ok());
  Client c;
  std::string base = "http://" + s.address();
  EXPECT_EQ(c.DoSync({.url = base + "/metrics"})->body, "exact");
  EXPECT_EQ(c.DoSync({.url = base + "/api/x"})->body, "api");
  EXPECT_EQ(c.DoSync({.url = base + "/api/v1/a%2Ab?q=x%20y"})->body, "v1 /api/v1/a*b x y");
  EXPECT_EQ(c.DoSync({.url = base + "/nope"})->status, 404);
}

TEST(ServerTest, PostBodyAndBodyLimit) {
  Server::Options o;
  o.max_body_bytes = 1000;
  Server s(o);
  s.Handle("/", Simple([](const Request& r) {
             return Response::Text(200, r.method + ":" + std::to_string(r.body.size()));
           }));
  ASSERT_TRUE(s.Start().ok());
  Client c;
  auto ok = c.DoSync(
      {.method = "POST", .url = "http://" + s.address() + "/", .body = std::string(900, 'x')});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->body, "POST:900");
  auto big = c.DoSync(
      {.method = "POST", .url = "http://" + s.address() + "/", .body = std::string(5000, 'x')});
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->status, 413);
}

TEST(ServerTest, StreamsChunksAndNoticesDepartedClient) {
  Server s({});
  std::atomic<bool> saw_gone{false};
  s.Handle("/watch", [&](const Request&, ResponseWriter& w) {
    w.BeginStream(200, {{"Content-Type", "application/json"}});
    w.Write("{\"n\":1}\n");
    w.Write("{\"n\":2}\n");
    // Keep the stream open until the client leaves.
    auto end = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < end && !w.ClientGone())
      std::this_thread::sleep_for(10ms);
    saw_gone = w.ClientGone();
  });
  ASSERT_TRUE(s.Start().ok());
  Client c;
  std::mutex mu;
  std::string got;
  std::promise<Status> done;
  auto id = c.DoStream(
      {.url = "http://" + s.address() + "/watch", .timeout = 0ms},
      [&](std::string_view d) {
        std::lock_guard l(mu);
        got.append(d);
        return true;
      },
      [&](Result<ClientResponse> r) { done.set_value(r.status()); });
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard l(mu);
    return got == "{\"n\":1}\n{\"n\":2}\n";
  }));
  c.Cancel(id);
  EXPECT_EQ(done.get_future().get().code(), Status::Code::kAborted);
  EXPECT_TRUE(WaitFor([&] { return saw_gone.load(); }));
}

TEST(ServerTest, StopUnblocksLongRunningHandlers) {
  auto s = std::make_unique<Server>(Server::Options{});
  std::atomic<bool> entered{false};
  s->Handle("/", [&](const Request&, ResponseWriter& w) {
    entered = true;
    while (!w.ClientGone()) std::this_thread::sleep_for(10ms);
  });
  ASSERT_TRUE(s->Start().ok());
  Client c;
  c.Do({.url = "http://" + s->address() + "/", .timeout = 0ms}, [](Result<ClientResponse>) {});
  ASSERT_TRUE(WaitFor([&] { return entered.load(); }));
  s->Stop();  // must return: the handler sees ClientGone once the socket is shut down
  SUCCEED();
}

TEST(ServerTest, ServesTls) {
  auto dir = std::filesystem::temp_directory_path() / ("sw-tls-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
      "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
      (dir / "key.pem").string() + " -out " + (dir / "cert.pem").string() + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  Server::Options o;
  o.tls_cert_file = (dir / "cert.pem").string();
  o.tls_key_file = (dir / "key.pem").string();
  Server s(o);
  s.Handle("/", Simple([](const Request&) { return Response::Text(200, "secure"); }));
  ASSERT_TRUE(s.Start().ok());
  Client c;
  ClientRequest req{.url = "https://" + s.address() + "/"};
  req.tls.ca_file = o.tls_cert_file;
  auto r = c.DoSync(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "secure");
  ClientRequest untrusted{.url = "https://" + s.address() + "/"};
  EXPECT_EQ(c.DoSync(untrusted).status().code(), Status::Code::kUnavailable);
  // server_name: verified against the certificate instead of the URL's host.
  ClientRequest named = req;
  named.tls.server_name = "localhost";
  auto ok = c.DoSync(named);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->body, "secure");
  named.tls.server_name = "not-in-the-cert.example";
  EXPECT_EQ(c.DoSync(named).status().code(), Status::Code::kUnavailable);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace shardwise::http
