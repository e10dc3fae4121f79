#include "common/http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

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

using shardwise::testing::WaitFor;

// A raw client for what the HTTP client cannot send: malformed, oversized, slow requests.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool Send(std::string_view data) {
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  // Reads until the server closes the connection (or 5 s pass); returns what arrived.
  std::string ReadToClose() {
    std::string out;
    char buf[4096];
    auto end = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
};

std::string StatusLine(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
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

// A rotated certificate is picked up by ReloadTls() on the same listener; a broken one is
// refused and the old one kept.
TEST(ServerTest, ReloadTlsServesTheRotatedCertificate) {
  shardwise::testing::TempDir dir;
  auto self_signed = [&](const std::string& name) {
    std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=" +
        name + " -addext subjectAltName=IP:127.0.0.1 -keyout " + dir.path() + "/" + name +
        "-key.pem -out " + dir.path() + "/" + name + ".pem >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
  };
  ASSERT_TRUE(self_signed("old"));
  ASSERT_TRUE(self_signed("new"));
  auto install = [&](const std::string& cert, const std::string& key) {
    std::filesystem::copy_file(dir.path() + "/" + cert + ".pem", dir.path() + "/tls.crt",
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(dir.path() + "/" + key + "-key.pem", dir.path() + "/tls.key",
                               std::filesystem::copy_options::overwrite_existing);
  };
  install("old", "old");
  Server s(Server::Options{});
  s.UseTls(dir.path() + "/tls.crt", dir.path() + "/tls.key");
  EXPECT_TRUE(s.tls());
  s.Handle("/", Simple([](const Request&) { return Response::Text(200, "secure"); }));
  ASSERT_TRUE(s.Start().ok());
  int port = s.port();
  // A fresh client each time: every request makes a new connection and handshake.
  auto trusted_by = [&](const std::string& ca) {
    Client c;
    ClientRequest req{.url = "https://" + s.address() + "/"};
    req.tls.ca_file = dir.path() + "/" + ca + ".pem";
    auto r = c.DoSync(req);
    return r.ok() && r->body == "secure";
  };
  EXPECT_TRUE(trusted_by("old"));
  EXPECT_FALSE(trusted_by("new"));

  install("new", "new");
  ASSERT_TRUE(s.ReloadTls().ok());
  EXPECT_EQ(s.port(), port);
  EXPECT_TRUE(trusted_by("new"));
  EXPECT_FALSE(trusted_by("old"));

  install("old", "new");  // a certificate with someone else's key
  Status bad = s.ReloadTls();
  EXPECT_EQ(bad.code(), Status::Code::kInvalidArgument) << bad.ToString();
  EXPECT_TRUE(trusted_by("new"));  // still the last good one
  std::filesystem::remove(dir.path() + "/tls.key");
  EXPECT_FALSE(s.ReloadTls().ok());
  EXPECT_TRUE(trusted_by("new"));

  Server plain(Server::Options{});
  EXPECT_EQ(plain.ReloadTls().code(), Status::Code::kFailedPrecondition);
}

// A client that keeps one CA file path (a mounted ConfigMap the kubelet updates) trusts a
// rotated CA on its next connection: the CA file is not cached past the rotation.
TEST(ServerTest, ClientReadsARotatedCaFile) {
  shardwise::testing::TempDir dir;
  auto self_signed = [&](const std::string& name) {
    std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=" +
        name + " -addext subjectAltName=IP:127.0.0.1 -keyout " + dir.path() + "/" + name +
        "-key.pem -out " + dir.path() + "/" + name + ".pem >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
  };
  ASSERT_TRUE(self_signed("old"));
  ASSERT_TRUE(self_signed("new"));
  auto use = [&](const std::string& name, const std::string& as) {
    std::filesystem::copy_file(dir.path() + "/" + name + ".pem", dir.path() + "/" + as,
                               std::filesystem::copy_options::overwrite_existing);
  };
  use("old", "tls.crt");
  std::filesystem::copy_file(dir.path() + "/old-key.pem", dir.path() + "/tls.key");
  use("old", "ca.crt");
  Server s(Server::Options{});
  s.UseTls(dir.path() + "/tls.crt", dir.path() + "/tls.key");
  s.Handle("/", Simple([](const Request&) { return Response::Text(200, "secure"); }));
  ASSERT_TRUE(s.Start().ok());
  Client c;
  ClientRequest req{.url = "https://" + s.address() + "/"};
  req.tls.ca_file = dir.path() + "/ca.crt";
  auto r = c.DoSync(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();

  use("new", "ca.crt");
  use("new", "tls.crt");
  std::filesystem::copy_file(dir.path() + "/new-key.pem", dir.path() + "/tls.key",
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_TRUE(s.ReloadTls().ok());
  // The kept-alive connection was made under the old certificate; close it so the next
  // request handshakes again.
  s.Stop();
  Server again(Server::Options{.listen_address = s.address()});
  again.UseTls(dir.path() + "/tls.crt", dir.path() + "/tls.key");
  again.Handle("/", Simple([](const Request&) { return Response::Text(200, "secure"); }));
  ASSERT_TRUE(again.Start().ok());
  r = c.DoSync(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "secure");
}

TEST(ServerTest, OverlongRequestLineIs414AndOversizedHeadersAre431) {
  Server::Options o;
  o.max_header_bytes = 8 << 10;
  o.max_request_line_bytes = 2 << 10;
  Server s(o);
  s.Handle("/", Simple([](const Request&) { return Response::Text(200, "ok"); }));
  ASSERT_TRUE(s.Start().ok());
  {
    RawConnection c(s.port());
    ASSERT_TRUE(c.Send("GET /" + std::string(4000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string r = c.ReadToClose();
    EXPECT_EQ(StatusLine(r), "HTTP/1.1 414 URI Too Long");
    EXPECT_TRUE(c.closed());
  }
  {
    RawConnection c(s.port());
    ASSERT_TRUE(c.Send("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(StatusLine(c.ReadToClose()), "HTTP/1.1 414 URI Too Long");
  }
  {
    RawConnection c(s.port());
    ASSERT_TRUE(
        c.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'b') + "\r\n\r\n"));
    EXPECT_EQ(StatusLine(c.ReadToClose()), "HTTP/1.1 431 Request Header Fields Too Large");
  }
  Client client;  // the server still serves
  EXPECT_EQ(client.DoSync({.url = "http://" + s.address() + "/"})->body, "ok");
}

TEST(ServerTest, MalformedRequestsAndNonUtf8PathsAre400) {
  Server s({});
  s.Handle("/", Simple([](const Request&) { return Response::Text(200, "ok"); }));
  ASSERT_TRUE(s.Start().ok());
  for (std::string bad : {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/9\r\n\r\n"),
                          std::string("GET / HTTP/1.1\r\nNo colon here\r\n\r\n"),
                          std::string("GET /a%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n"),
                          std::string("GET /a\xc0\xaf HTTP/1.1\r\nHost: x\r\n\r\n"),
                          std::string("GET * HTTP/1.1\r\nHost: x\r\n\r\n"),
                          std::string("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n")}) {
    RawConnection c(s.port());
    ASSERT_TRUE(c.Send(bad));
    EXPECT_EQ(StatusLine(c.ReadToClose()), "HTTP/1.1 400 Bad Request") << bad;
  }
  Client client;
  EXPECT_EQ(client.DoSync({.url = "http://" + s.address() + "/%C3%A9"})->status, 200);
}

TEST(ServerTest, MethodsAnswers405WithAllowAndHeadHasNoBody) {
  Server s({});
  s.HandleExact("/metrics", Methods({"GET", "HEAD"}, Simple([](const Request&) {
                                      return Response::Text(200, "metric 1\n");
                                    })));
  ASSERT_TRUE(s.Start().ok());
  Client c;
  std::string url = "http://" + s.address() + "/metrics";
  auto post = c.DoSync({.method = "POST", .url = url, .body = "x"});
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->Header("Allow"), "GET, HEAD");
  EXPECT_EQ(c.DoSync({.method = "DELETE", .url = url})->status, 405);
  RawConnection raw(s.port());
  ASSERT_TRUE(raw.Send("HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string head = raw.ReadToClose();
  EXPECT_EQ(StatusLine(head), "HTTP/1.1 200 OK");
  EXPECT_NE(head.find("Content-Length: 9\r\n"), std::string::npos) << head;
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;  // no body
  EXPECT_EQ(c.DoSync({.url = url})->body, "metric 1\n");
}

TEST(ServerTest, ThrowingHandlerGets500AndTheServerLivesOn) {
  Server s({});
  s.Handle("/throw", Simple([](const Request&) -> Response { throw std::runtime_error("boom"); }));
  s.Handle("/", Simple([](const Request&) { return Response::Text(200, "ok"); }));
  ASSERT_TRUE(s.Start().ok());
  Client c;
  EXPECT_EQ(c.DoSync({.url = "http://" + s.address() + "/throw"})->status, 500);
  EXPECT_EQ(c.DoSync({.url = "http://" + s.address() + "/"})->body, "ok");
}

TEST(ServerTest, SlowOrSilentClientsAreCutOff) {
  Server::Options o;
  o.header_timeout = 300ms;
  o.read_timeout = 300ms;
  o.idle_timeout = 300ms;
  Server s(o);
  s.Handle("/", Simple([](const Request&) { return Response::Text(200, "ok"); }));
  ASSERT_TRUE(s.Start().ok());
  RawConnection silent(s.port());
  RawConnection slow_header(s.port());
  ASSERT_TRUE(slow_header.Send("GET / HTTP/1.1\r\nHost: x\r\n"));  // never ends the head
  RawConnection slow_body(s.port());
  ASSERT_TRUE(slow_body.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab"));
  RawConnection idle(s.port());
  ASSERT_TRUE(idle.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));  // keep-alive, then quiet
  for (auto* c : {&silent, &slow_header, &slow_body, &idle}) {
    c->ReadToClose();
    EXPECT_TRUE(c->closed());
  }
}

TEST(ServerTest, AtTheConnectionLimitIdleConnectionsMakeRoom) {
  Server::Options o;
  o.max_connections = 8;
  Server s(o);
  s.Handle("/", Simple([](const Request&) { return Response::Text(200, "ok"); }));
  ASSERT_TRUE(s.Start().ok());
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 50; ++i) {
    idle.push_back(std::make_unique<RawConnection>(s.port()));
    ASSERT_TRUE(idle.back()->connected());
  }
  Client c;
  for (int i = 0; i < 5; ++i) {
    auto r = c.DoSync({.url = "http://" + s.address() + "/"});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->body, "ok");
  }
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
