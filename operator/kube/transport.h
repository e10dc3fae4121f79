// Transport: the seam between the Kubernetes client and HTTP. The client builds requests
// (path, query, body, content type); a Transport sends them to the API server, adding the
// server URL, TLS and authentication. HttpTransport (http_transport.h) is the real one, on
// the project's libcurl client; tests substitute fakes to script answers.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/http/message.h"
#include "common/status.h"

namespace shardwise::kube {

struct HttpRequest {
  std::string method = "GET";
  std::string target;  // path plus "?query", relative to the server URL
  http::Headers headers;
  std::string body;
  // The whole exchange, streams included; 0 = none. Client fills in its request_timeout.
  std::chrono::milliseconds timeout{0};
};

struct HttpResponse {
  int status = 0;
  http::Headers headers;
  std::string body;
  std::string_view Header(std::string_view name) const { return http::FindHeader(headers, name); }
};

// Cancels a stream; idempotent. Destroying the handle cancels too.
class StreamHandle {
 public:
  virtual ~StreamHandle() = default;
  virtual void Cancel() = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;

  // One round trip. A non-OK Status means there was no HTTP answer (refused, reset,
  // TLS failure, timeout); any HTTP status, 4xx/5xx included, is a response.
  virtual Result<HttpResponse> Do(const HttpRequest& request) = 0;

  // Streams the body: `on_data` gets chunks as they arrive (return false to stop), then
  // `on_done` is called exactly once — with the response status (the body of a non-2xx
  // answer included), or with a Status when the connection failed or was cancelled.
  // Callbacks run on a transport thread and must not block.
  virtual std::unique_ptr<StreamHandle> Stream(
      const HttpRequest& request, std::function<bool(std::string_view chunk)> on_data,
      std::function<void(Result<HttpResponse>)> on_done) = 0;
};

}  // namespace shardwise::kube
