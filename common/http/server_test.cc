#include "common/http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <thread>

#include "common/http/client.h"
#include "common/testing/test_util.h"

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

// A CA, a server certificate for 127.0.0.1 and client certificates, made with openssl.
class ClientCertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string d = dir_.path() + "/";
    auto run = [](const std::string& cmd) {
      return std::system((cmd + " >/dev/null 2>&1").c_str());
    };
    for (const char* ca : {"ca", "other-ca"}) {
      ASSERT_EQ(run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
                    "-subj /CN=" +
                    std::string(ca) + " -keyout " + d + ca + "-key.pem -out " + d + ca + ".pem"),
                0);
    }
    auto leaf = [&](const std::string& name, const std::string& subject, const std::string& ca,
                    const std::string& ext) {
      std::string ext_file = dir_.File(name + ".ext", ext + "\n");
      return run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj " +
                 subject + " -keyout " + d + name + "-key.pem -out " + d + name + ".csr") == 0 &&
             run("openssl x509 -req -in " + d + name + ".csr -CA " + d + ca + ".pem -CAkey " + d +
                 ca + "-key.pem -CAcreateserial -days 1 -extfile " + ext_file + " -out " + d +
                 name + ".pem") == 0;
    };
    ASSERT_TRUE(leaf("server", "/CN=localhost", "ca", "subjectAltName=IP:127.0.0.1"));
    ASSERT_TRUE(leaf("client", "/O=system:masters/O=ops/CN=front-proxy-client", "ca",
                     "extendedKeyUsage=clientAuth"));
    ASSERT_TRUE(
        leaf("stranger", "/CN=front-proxy-client", "other-ca", "extendedKeyUsage=clientAuth"));
  }

  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }

  // Serves "cn|orgs|chain length" of the request's peer certificate.
  std::unique_ptr<Server> Start(bool optional) {
    Server::Options o;
    o.tls_cert_file = Path("server.pem");
    o.tls_key_file = Path("server-key.pem");
    o.tls_client_ca_file = Path("ca.pem");
    o.tls_client_cert_optional = optional;
    auto s = std::make_unique<Server>(o);
    s->Handle("/", Simple([](const Request& r) {
                const PeerCertificate& p = r.peer_certificate;
                std::string orgs;
                for (const auto& org : p.organizations) orgs += org + ",";
                if (!r.tls) return Response::Text(500, "not over TLS?");
                return Response::Text(200, (p.present() ? "cert " : "none ") + p.subject_cn + "|" +
                                               orgs + "|" + std::to_string(p.chain_pem.size()));
              }));
    EXPECT_TRUE(s->Start().ok());
    return s;
  }

  Result<ClientResponse> Get(const Server& s, const std::string& client) {
    ClientRequest req{.url = "https://" + s.address() + "/"};
    req.tls.ca_file = Path("ca.pem");
    if (!client.empty()) {
      req.tls.cert_file = Path(client + ".pem");
      req.tls.key_file = Path(client + "-key.pem");
    }
    return client_.DoSync(req);
  }

  shardwise::testing::TempDir dir_;
  Client client_;
};

TEST_F(ClientCertTest, RequiredClientCertificateIsVerifiedAndShownToHandlers) {
  auto s = Start(/*optional=*/false);
  auto ok = Get(*s, "client");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->body, "cert front-proxy-client|system:masters,ops,|2");
  EXPECT_FALSE(Get(*s, "").ok());          // no certificate: the handshake fails
  EXPECT_FALSE(Get(*s, "stranger").ok());  // signed by a CA we do not trust
}

TEST_F(ClientCertTest, OptionalClientCertificateIsVerifiedWhenPresented) {
  auto s = Start(/*optional=*/true);
  auto none = Get(*s, "");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->body, "none ||0");
  auto ok = Get(*s, "client");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->body, "cert front-proxy-client|system:masters,ops,|2");
  EXPECT_FALSE(Get(*s, "stranger").ok());
}

}  // namespace
}  // namespace shardwise::http
