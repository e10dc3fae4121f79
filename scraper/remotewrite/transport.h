// Transport: one attempt to deliver one compressed WriteRequest, and the verdict on it.
// The queue manager owns retries and backoff; a transport only classifies (retry.h).
// HttpTransport is the real one: an HTTP POST with the remote-write 1.0 headers and the
// endpoint's auth, custom headers, TLS and timeout.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "common/http/client.h"
#include "scraper/remotewrite/config.h"
#include "scraper/remotewrite/retry.h"

namespace shardwise::remotewrite {

struct SendAttempt {
  Verdict verdict;
  int http_status = 0;  // 0 when the request never got an answer
  std::string error;    // why it failed, for logs; empty when delivered
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Thread-safe: shards call it concurrently.
  virtual SendAttempt Send(std::string_view snappy_body) = 0;
  // Aborts the requests in flight (their Send returns a retry verdict at once) and makes
  // later Sends fail the same way: the queue is stopping. Returns how many it aborted.
  virtual uint64_t CancelAll() { return 0; }
};

class HttpTransport : public Transport {
 public:
  // `client` must outlive the transport.
  HttpTransport(EndpointConfig config, http::Client& client);
  SendAttempt Send(std::string_view snappy_body) override;
  uint64_t CancelAll() override;

  // The request Send would make (body included), for tests and debugging. Credentials
  // files are read here, on every call, so rotated secrets are picked up.
  Result<http::ClientRequest> BuildRequest(std::string_view snappy_body) const;

 private:
  EndpointConfig config_;
  http::Client& client_;
  std::mutex mu_;
  bool cancelled_ = false;                     // guarded by mu_
  std::set<http::Client::StreamId> inflight_;  // guarded by mu_
};

}  // namespace shardwise::remotewrite
