#include "scraper/remotewrite/transport.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace shardwise::remotewrite {
namespace {

// Reads a secret file, trimming the trailing newline editors and `echo` add.
Result<std::string> ReadSecret(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::FailedPrecondition("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

std::string_view UserAgent() {
  static const std::string agent = fmt::format("shardwise/{}", SHARDWISE_VERSION);
  return agent;
}

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
                 {"X-Prometheus-Remote-Write-Version", "0.1.0"},
                 {"User-Agent", std::string(UserAgent())}};
  for (const auto& h : config_.headers) req.headers.push_back(h);
  if (config_.basic_auth) {
    std::string password = config_.basic_auth->password;
    if (!config_.basic_auth->password_file.empty()) {
      Result<std::string> p = ReadSecret(config_.basic_auth->password_file);
      if (!p.ok()) return p.status();
      password = *p;
    }
    req.basic_auth = std::make_pair(config_.basic_auth->username, password);
  }
  if (config_.authorization) {
    std::string credentials = config_.authorization->credentials;
    if (!config_.authorization->credentials_file.empty()) {
      Result<std::string> c = ReadSecret(config_.authorization->credentials_file);
      if (!c.ok()) return c.status();
      credentials = *c;
    }
    req.headers.emplace_back("Authorization",
                             fmt::format("{} {}", config_.authorization->type, credentials));
  }
  req.tls.ca_file = config_.tls.ca_file;
  req.tls.cert_file = config_.tls.cert_file;
  req.tls.key_file = config_.tls.key_file;
  req.tls.server_name = config_.tls.server_name;
  req.tls.insecure_skip_verify = config_.tls.insecure_skip_verify;
  return req;
}

SendAttempt HttpTransport::Send(std::string_view snappy_body) {
  Result<http::ClientRequest> req = BuildRequest(snappy_body);
  // A missing secret file may appear later (a Secret being mounted): retry.
  if (!req.ok()) return {{SendOutcome::kRetry, {}}, 0, req.status().ToString()};
  Result<http::ClientResponse> resp = client_.DoSync(std::move(*req));
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

}  // namespace shardwise::remotewrite
