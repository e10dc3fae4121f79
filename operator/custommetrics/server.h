// CustomMetricsServer: the HTTPS listener of the custom metrics API. TLS material is read
// from files at Start(); Reload() re-reads them (a rotated serving certificate, a new
// requestheader CA) without closing the listener (http::Server::ReloadTls): connections
// accepted afterwards use them; on a broken file the previous material stays. Client certificates
// are requested, not required: the API answers 401 to a request without a valid front-proxy
// certificate.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "common/http/server.h"
#include "operator/custommetrics/api.h"
#include "operator/custommetrics/external_api.h"

namespace shardwise::custommetrics {

class CustomMetricsServer {
 public:
  struct Options {
    std::string listen_address = ":6443";
    std::string cert_file, key_file;
    std::string client_ca_file;  // the requestheader CA bundle
  };
  CustomMetricsServer(Options options, CustomMetricsApi* api);
  ~CustomMetricsServer();

  // Also serves external.metrics.k8s.io (before Start).
  void SetExternalApi(ExternalMetricsApi* api) { external_ = api; }

  Status Start();
  Status Reload();
  void Stop();
  bool running() const;
  int port() const;

 private:
  Status StartLocked();
  Options options_;
  CustomMetricsApi* api_;
  ExternalMetricsApi* external_ = nullptr;
  mutable std::mutex mu_;
  std::unique_ptr<http::Server> server_;
  int port_ = 0;
};

}  // namespace shardwise::custommetrics
