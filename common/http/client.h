// Client: the one HTTP client of the project (scrapes, remote write, http_sd, the
// Kubernetes API client, tests). libcurl multi on a single event-loop thread: many
// concurrent transfers, keep-alive connection reuse, gzip, TLS/mTLS, deadlines and
// body-size caps.
//
// Callbacks (done, on_data) run on the client's loop thread: they must be quick and must
// never block or call DoSync on the same client. Hand real work to another thread.
// Errors: Unavailable (connect/network/TLS failure, retryable), DeadlineExceeded (timeout),
// ResourceExhausted (body over max_body_bytes), Aborted (cancelled), InvalidArgument.
// An HTTP error status is not an error here: the response carries it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/http/message.h"
#include "common/status.h"

namespace shardwise::http {

struct TlsOptions {
  std::string ca_file;    // PEM bundle to verify the server; empty = system store
  std::string cert_file;  // client certificate (mTLS)
  std::string key_file;
  // In-memory PEM alternatives to the files above (e.g. kubeconfig *-data fields).
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
  std::string server_name;  // SNI / verification name override
  bool insecure_skip_verify = false;
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  std::chrono::milliseconds timeout{10000};  // whole transfer; 0 = none (streams)
  size_t max_body_bytes = 0;                 // 0 = unlimited; counts decompressed bytes
  // Body bytes to reserve when the first arrive (e.g. the size of the previous response
  // from the same URL), so a large body is not grown by repeated copying. Capped by
  // max_body_bytes.
  size_t body_size_hint = 0;
  bool accept_gzip = false;
  TlsOptions tls;
  std::string bearer_token;
  std::optional<std::pair<std::string, std::string>> basic_auth;
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;
  double seconds = 0;           // total transfer time
  bool new_connection = false;  // false: it reused a kept-alive connection
  std::string_view Header(std::string_view name) const { return FindHeader(headers, name); }
};

using DoneCallback = std::function<void(Result<ClientResponse>)>;

class Client {
 public:
  struct Options {
    std::string user_agent = "shardwise/0.1.0";
    long max_connections_per_host = 0;  // 0 = libcurl default (unlimited)
    long max_total_connections = 0;
    // Idle keep-alive connections kept for reuse (libcurl's own default shrinks to 4x the
    // transfers in progress, so scrapes of many targets spread over an interval would each
    // open a new connection). Scrapes rely on this for one connection per target.
    long max_idle_connections = 10000;
    // An idle connection older than this is not reused (Prometheus: 5 minutes).
    std::chrono::seconds idle_connection_timeout{300};
  };
  Client();
  explicit Client(Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Identifies a request (Do) or stream (DoStream) for Cancel.
  using StreamId = uint64_t;

  // Starts a request; `done` is called exactly once.
  StreamId Do(ClientRequest request, DoneCallback done);
  // Blocks until done. Never call from a callback of this client.
  Result<ClientResponse> DoSync(ClientRequest request);

  // Like Do, but hands body bytes to `on_data` as they arrive instead of buffering them
  // (response.body stays empty). Returning false from on_data cancels the stream. `done`
  // gets the status line and headers when the stream ends, Aborted when cancelled.
  StreamId DoStream(ClientRequest request, std::function<bool(std::string_view)> on_data,
                    DoneCallback done);
  // Cancels a request or stream in flight: its connection is closed (never reused) and
  // `done` runs with Aborted, on the client's thread, soon after. Returns at once; safe to
  // call from any thread and under the caller's locks, for finished requests too (then it
  // does nothing).
  void Cancel(StreamId id);

  // Process-wide shared client for callers that need no special options.
  static Client& Shared();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shardwise::http
