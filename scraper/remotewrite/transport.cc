#include "scraper/remotewrite/transport.h"

#include <fmt/format.h>

#include <future>
#include <memory>

#include "common/http/client_config.h"

namespace shardwise::remotewrite {

HttpTransport::HttpTransport(EndpointConfig config, http::Client& client)
    : config_(std::move(config)), client_(client) {}

Result<http::ClientRequest> HttpTransport::BuildRequest(std::string_view snappy_body) const {
  http::ClientRequest req;
  req.method = "POST";
  req.url = config_.url;
  req.body.assign(snappy_body);
  req.timeout = config_.remote_timeout;
  req.headers = {{"Content-Encoding", "snappy"},
                 {"Content-Type", "application/x-protobuf"},
                 {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
  // No User-Agent here: the client's ("shardwise/<version> (<pod>)" in a scraper pod) names
  // the sending scraper to the receiver, as it names it to the targets it scrapes.
  // Secret files are read here, per request, so rotated credentials are picked up.
  SHARDWISE_RETURN_IF_ERROR(http::ApplyTo(config_, req));
  return req;
}

SendAttempt HttpTransport::Send(std::string_view snappy_body) {
  Result<http::ClientRequest> req = BuildRequest(snappy_body);
  // A missing secret file may appear later (a Secret being mounted): retry.
  if (!req.ok()) return {{SendOutcome::kRetry, {}}, 0, req.status().ToString()};
  // A stream, not DoSync, so that Stop can cancel it: the drain deadline is hard.
  struct Pending {
    std::string body;
    std::promise<Result<http::ClientResponse>> done;
  };
  auto pending = std::make_shared<Pending>();
  auto future = pending->done.get_future();
  http::Client::StreamId id;
  {
    // Registered under the lock, so CancelAll never misses a request once it started.
    std::lock_guard lock(mu_);
    if (cancelled_) return {{SendOutcome::kRetry, {}}, 0, "cancelled: remote write is stopping"};
    id = client_.DoStream(
        std::move(*req),
        [pending](std::string_view data) {
          if (pending->body.size() < 4096) pending->body.append(data.substr(0, 4096));
          return true;
        },
        [pending](Result<http::ClientResponse> r) { pending->done.set_value(std::move(r)); });
    inflight_.insert(id);
  }
  Result<http::ClientResponse> resp = future.get();
  {
    std::lock_guard lock(mu_);
    inflight_.erase(id);
  }
  if (resp.ok()) resp->body = std::move(pending->body);
  if (!resp.ok()) {
    return {ClassifyTransportError(resp.status()), 0, resp.status().ToString()};
  }
  SendAttempt attempt;
  attempt.http_status = resp->status;
  attempt.verdict =
      ClassifyStatus(resp->status, resp->Header("Retry-After"), config_.queue.retry_on_http_429,
                     std::chrono::system_clock::now());
  if (attempt.verdict.outcome != SendOutcome::kDelivered) {
    attempt.error = fmt::format("HTTP {}: {}", resp->status, resp->body.substr(0, 256));
  }
  return attempt;
}

uint64_t HttpTransport::CancelAll() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  for (http::Client::StreamId id : inflight_) client_.Cancel(id);
  return inflight_.size();
}

}  // namespace shardwise::remotewrite
