#include "operator/kube/http_transport.h"

#include <mutex>

namespace shardwise::kube {
namespace {

HttpResponse FromClientResponse(http::ClientResponse response) {
  HttpResponse out;
  out.status = response.status;
  out.headers = std::move(response.headers);
  out.body = std::move(response.body);
  return out;
}

class CurlStreamHandle : public StreamHandle {
 public:
  CurlStreamHandle(std::shared_ptr<http::Client> client, http::Client::StreamId id)
      : client_(std::move(client)), id_(id) {}
  ~CurlStreamHandle() override { Cancel(); }
  void Cancel() override {
    std::call_once(cancelled_, [this] { client_->Cancel(id_); });
  }

 private:
  std::shared_ptr<http::Client> client_;
  http::Client::StreamId id_;
  std::once_flag cancelled_;
};

}  // namespace

Result<std::shared_ptr<HttpTransport>> HttpTransport::Create(const Config& config) {
  if (config.server.rfind("http://", 0) != 0 && config.server.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("server URL must start with http:// or https://: " +
                                   config.server);
  }
  return std::make_shared<HttpTransport>(config);
}

HttpTransport::HttpTransport(const Config& config)
    : server_(config.server), client_(std::make_shared<http::Client>()) {
  while (!server_.empty() && server_.back() == '/') server_.pop_back();
  tls_.ca_file = config.ca_file;
  tls_.ca_pem = config.ca_pem;
  tls_.cert_file = config.client_cert_file;
  tls_.cert_pem = config.client_cert_pem;
  tls_.key_file = config.client_key_file;
  tls_.key_pem = config.client_key_pem;
  tls_.server_name = config.tls_server_name;
  tls_.insecure_skip_verify = config.insecure_skip_tls_verify;
}

http::ClientRequest HttpTransport::ToClientRequest(const HttpRequest& request) const {
  http::ClientRequest out;
  out.method = request.method;
  out.url = server_ + request.target;
  out.headers = request.headers;
  out.body = request.body;
  out.timeout = request.timeout;
  out.accept_gzip = true;
  out.tls = tls_;
  return out;
}

Result<HttpResponse> HttpTransport::Do(const HttpRequest& request) {
  auto response = client_->DoSync(ToClientRequest(request));
  if (!response.ok()) return response.status();
  return FromClientResponse(std::move(response).value());
}

std::unique_ptr<StreamHandle> HttpTransport::Stream(
    const HttpRequest& request, std::function<bool(std::string_view)> on_data,
    std::function<void(Result<HttpResponse>)> on_done) {
  // The streaming call does not buffer the body, but an error answer's body (a
  // metav1.Status) is what says why: keep the first bytes for on_done.
  constexpr size_t kKeptPrefix = 64 << 10;
  auto prefix = std::make_shared<std::string>();
  auto id = client_->DoStream(
      ToClientRequest(request),
      [prefix, on_data = std::move(on_data)](std::string_view chunk) {
        if (prefix->size() < kKeptPrefix) {
          prefix->append(chunk.substr(0, kKeptPrefix - prefix->size()));
        }
        return on_data(chunk);
      },
      [prefix, on_done = std::move(on_done)](Result<http::ClientResponse> response) {
        if (!response.ok()) return on_done(response.status());
        HttpResponse out = FromClientResponse(std::move(response).value());
        if (out.body.empty()) out.body = std::move(*prefix);
        on_done(std::move(out));
      });
  return std::make_unique<CurlStreamHandle>(client_, id);
}

}  // namespace shardwise::kube
