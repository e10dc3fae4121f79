// Server: the HTTP(S) server every component uses (operator endpoints, scraper /metrics,
// remote read, the API simulator). Boost.Beast, one thread per connection, keep-alive.
//
// Handlers run on the connection's thread and may block it (long polls, watch streams)
// without affecting other connections. A handler either Send()s one response, or streams:
// BeginStream() then Write() chunks until it is done or Write() returns false / ClientGone()
// turns true (the peer went away). A handler that does neither gets a 500.
//
// Routes: exact paths first, then the longest matching prefix. Unknown paths get 404.
// Stop() closes the listener and every open connection, then joins their threads.
#pragma once

#include <atomic>
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
    size_t max_connections = 4096;
    // Keep-alive connections idle this long are closed.
    int idle_timeout_seconds = 300;
  };

  explicit Server(Options options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Register before Start().
  void Handle(std::string path_prefix, Handler handler);
  void HandleExact(std::string path, Handler handler);

  Status Start();
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
