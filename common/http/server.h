// Server: the HTTP(S) server every component uses (operator endpoints, scraper /metrics,
// remote read, the custom metrics API, the API simulator). Boost.Beast, keep-alive.
//
// Threads: one event-loop thread accepts connections and watches idle ones (no thread per
// idle connection); when a connection has bytes to read it gets a thread of its own until
// its requests are answered and it is idle again. Handlers run on that thread and may block
// it (long polls, watch streams) without affecting other connections. A handler either
// Send()s one response, or streams: BeginStream() then Write() chunks until it is done or
// Write() returns false / ClientGone() turns true (the peer went away). A handler that does
// neither gets a 500; one that throws gets a 500 and the connection lives on.
//
// Routes: exact paths first, then the longest matching prefix. Unknown paths get 404.
//
// Limits (Options), answered before any handler runs:
//   - malformed request line or header, a path that is not valid UTF-8 → 400, then close;
//   - request target longer than max_request_line_bytes → 414; request line + headers over
//     max_header_bytes → 431; body over max_body_bytes → 413 (all close the connection);
//   - header_timeout: a request's line and headers (and the TLS handshake) must arrive within
//     it, counted from its first byte, against slowloris; read_timeout: likewise its body;
//     write_timeout: each write; idle_timeout: a keep-alive connection between requests, and
//     a new connection before its first byte (capped at header_timeout).
//   - max_connections: at the limit a new connection displaces the connection that has been
//     idle longest (between requests or before its first request), else the oldest one still
//     sending its request headers; only when every connection is inside a handler is the new
//     one closed at once. So idle or slow connections can never starve real requests.
// Counted in shardwise_http_server_connections (open) and
// shardwise_http_server_connections_closed_total{reason} (limit|evicted|idle_timeout|
// header_timeout|body_timeout) and shardwise_http_server_rejected_requests_total{code}.
//
// Stop() closes the listener and every open connection, then joins their threads.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/http/message.h"
#include "common/status.h"

namespace shardwise::http {

class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual void Send(Response response) = 0;
  // Starts a chunked response. Returns false when the client is gone.
  virtual bool BeginStream(int status, const Headers& headers) = 0;
  // Writes one chunk (flushed immediately). False when the client is gone.
  virtual bool Write(std::string_view chunk) = 0;
  // Ends the chunked response.
  virtual void End() = 0;
  // True when the peer closed its side of the connection. Cheap; poll it while waiting.
  virtual bool ClientGone() = 0;
};

using Handler = std::function<void(const Request&, ResponseWriter&)>;
// Convenience for handlers that compute one response.
using SimpleHandler = std::function<Response(const Request&)>;
Handler Simple(SimpleHandler fn);
// Answers 405 with an Allow header to methods not in `allowed` (HEAD is served like GET,
// without the body, when GET is allowed and HEAD is listed).
Handler Methods(std::vector<std::string> allowed, Handler handler);

class Server {
 public:
  struct Options {
    // "host:port"; ":port" binds every interface; port 0 picks a free one.
    std::string listen_address = "127.0.0.1:0";
    // PEM files; TLS is on when cert and key are set. A client CA bundle turns on client
    // certificate verification: by default every client must present a certificate that
    // chains to it (mTLS); with tls_client_cert_optional a client may present none (handlers
    // then authenticate it otherwise, e.g. by bearer token), but one it presents must verify.
    // The verified certificate reaches handlers as Request::peer_certificate.
    std::string tls_cert_file;
    std::string tls_key_file;
    std::string tls_client_ca_file;
    bool tls_client_cert_optional = false;
    size_t max_body_bytes = 64 << 20;
    size_t max_header_bytes = 64 << 10;
    size_t max_request_line_bytes = 16 << 10;
    size_t max_connections = 4096;
    std::chrono::milliseconds header_timeout{std::chrono::seconds(30)};
    std::chrono::milliseconds read_timeout{std::chrono::seconds(60)};
    std::chrono::milliseconds write_timeout{std::chrono::seconds(60)};
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(120)};
  };

  explicit Server(Options options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Register before Start().
  void Handle(std::string path_prefix, Handler handler);
  void HandleExact(std::string path, Handler handler);

  // Serve TLS with these PEM files (as Options::tls_cert_file/tls_key_file). Before Start().
  void UseTls(std::string cert_file, std::string key_file);
  Status Start();
  // Re-reads the TLS files (a rotated certificate) without closing the listener: connections
  // accepted from now on use the new certificate, open ones keep the one they were accepted
  // with. On error (missing file, key not matching) the old certificate stays in use.
  Status ReloadTls();
  void Stop();
  int port() const { return port_; }
  // "127.0.0.1:PORT" (the bound address).
  std::string address() const;
  bool tls() const;

 private:
  struct Impl;
  const Handler* Route(const std::string& path) const;
  std::unique_ptr<Impl> impl_;
  Options options_;
  std::map<std::string, Handler> exact_;
  std::map<std::string, Handler> prefix_;
  std::atomic<int> port_{0};
};

// Splits "host:port" (also "[v6]:port", ":port"). Empty host means all interfaces.
Status ParseHostPort(std::string_view address, std::string* host, int* port);

}  // namespace shardwise::http
