#include "operator/custommetrics/server.h"

namespace shardwise::custommetrics {

CustomMetricsServer::CustomMetricsServer(Options options, CustomMetricsApi* api)
    : options_(std::move(options)), api_(api) {}

CustomMetricsServer::~CustomMetricsServer() { Stop(); }

Status CustomMetricsServer::StartLocked() {
  http::Server::Options o;
  o.listen_address = options_.listen_address;
  if (port_ != 0) {  // keep the port a restart bound first (":0" in tests)
    std::string host;
    int ignored = 0;
    SHARDWISE_RETURN_IF_ERROR(http::ParseHostPort(options_.listen_address, &host, &ignored));
    o.listen_address = host + ":" + std::to_string(port_);
  }
  o.tls_cert_file = options_.cert_file;
  o.tls_key_file = options_.key_file;
  o.tls_client_ca_file = options_.client_ca_file;
  o.tls_client_cert_optional = true;
  o.max_body_bytes = 1 << 20;  // GETs only
  auto server = std::make_unique<http::Server>(o);
  api_->Register(*server);
  if (external_) external_->Register(*server);
  SHARDWISE_RETURN_IF_ERROR(server->Start());
  port_ = server->port();
  server_ = std::move(server);
  return Status::OK();
}

Status CustomMetricsServer::Start() {
  std::lock_guard lock(mu_);
  if (server_) return Status::OK();
  return StartLocked();
}

Status CustomMetricsServer::Reload() {
  std::lock_guard lock(mu_);
  // The listener stays up: new connections get the new certificate and client CA.
  if (server_) return server_->ReloadTls();
  return StartLocked();
}

void CustomMetricsServer::Stop() {
  std::lock_guard lock(mu_);
  if (server_) server_->Stop();
  server_.reset();
}

bool CustomMetricsServer::running() const {
  std::lock_guard lock(mu_);
  return server_ != nullptr;
}

int CustomMetricsServer::port() const {
  std::lock_guard lock(mu_);
  return port_;
}

}  // namespace shardwise::custommetrics
