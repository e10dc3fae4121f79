// HttpTransport: the Transport on the project's HTTP client (common/http/client.h, libcurl
// multi). Prefixes the server URL and applies the Config's TLS settings (CA, client
// certificate and key from files or in-memory PEM, server name, insecure-skip-verify).
// Authentication headers are the Client's job (the token rotates per request).
#pragma once

#include <memory>

#include "common/http/client.h"
#include "operator/kube/config.h"
#include "operator/kube/transport.h"

namespace shardwise::kube {

class HttpTransport : public Transport {
 public:
  // Uses its own http::Client (one loop thread) so that long watches and API calls do not
  // share connection limits with scrapes.
  static Result<std::shared_ptr<HttpTransport>> Create(const Config& config);

  explicit HttpTransport(const Config& config);

  Result<HttpResponse> Do(const HttpRequest& request) override;
  std::unique_ptr<StreamHandle> Stream(const HttpRequest& request,
                                       std::function<bool(std::string_view)> on_data,
                                       std::function<void(Result<HttpResponse>)> on_done) override;

 private:
  http::ClientRequest ToClientRequest(const HttpRequest& request) const;

  std::string server_;
  http::TlsOptions tls_;
  std::shared_ptr<http::Client> client_;
};

}  // namespace shardwise::kube
