#include "common/app/app.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "common/log/log.h"
#include "common/metrics/registry.h"

namespace shardwise {

std::string_view Version() { return SHARDWISE_VERSION; }

App::App(std::string name, std::string description, std::string default_listen_address)
    : name_(name),
      flags_(std::move(name), std::move(description)),
      listen_address_(std::move(default_listen_address)) {
  if (!listen_address_.empty()) {
    flags_.String("web.listen-address", &listen_address_,
                  "Address to listen on for /metrics, health and API endpoints.");
    flags_.String("web.tls-cert-file", &tls_cert_file_, "PEM certificate to serve HTTPS with.");
    flags_.String("web.tls-key-file", &tls_key_file_, "PEM private key for --web.tls-cert-file.");
    flags_.Size("web.max-connections", &max_connections_,
                "Open connections at most. At the limit a new connection displaces the one idle "
                "longest (or slowest to send its headers); it is refused only when all are busy.",
                1);
    flags_.Size("web.max-header-bytes", &max_header_bytes_,
                "Request line plus headers at most (431 beyond; a longer request target: 414).",
                1024);
    flags_.Size("web.max-request-body-bytes", &max_body_bytes_,
                "Request body at most (413 beyond).");
    flags_.Duration(
        "web.read-header-timeout", &header_timeout_,
        "A request's line and headers (and the TLS handshake) must arrive within this.");
    flags_.Duration("web.read-timeout", &read_timeout_,
                    "A request's body must arrive within this.");
    flags_.Duration("web.write-timeout", &write_timeout_,
                    "Each write of a response must complete within this.");
    flags_.Duration("web.idle-timeout", &idle_timeout_,
                    "Keep-alive connections idle this long between requests are closed.");
  }
  flags_.String("log.level", &log_level_,
                "Only log messages at this level or above: debug, info, warn, error.");
  flags_.String("log.format", &log_format_, "Log line format: logfmt or json.");
}

App::~App() {
  if (!tls_reload_.joinable()) return;
  {
    std::lock_guard lock(tls_reload_mu_);
    tls_reload_stop_ = true;
  }
  tls_reload_cv_.notify_all();
  tls_reload_.join();
}

std::optional<int> App::Init(int argc, char** argv) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Status s = flags_.Parse(argc, argv);
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", name_.c_str(), s.message().c_str());
    return 2;
  }
  if (flags_.help_requested()) {
    std::fputs(flags_.Usage().c_str(), stdout);
    return 0;
  }
  if (flags_.version_requested()) {
    std::printf("%s version %s\n", name_.c_str(), std::string(Version()).c_str());
    return 0;
  }
  s = log::Setup(log_level_, log_format_, name_);
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", name_.c_str(), s.message().c_str());
    return 2;
  }
  metrics::RegisterProcessMetrics();
  metrics::Registry::Default()
      .AddGaugeFamily("shardwise_build_info", "Build information; always 1.",
                      {"component", "version"})
      .With({name_, std::string(Version())})
      .Set(1);
  if (listen_address_.empty()) return std::nullopt;
  http::Server::Options o;
  o.listen_address = listen_address_;
  o.tls_cert_file = tls_cert_file_;
  o.tls_key_file = tls_key_file_;
  o.max_connections = max_connections_;
  o.max_header_bytes = max_header_bytes_;
  o.max_request_line_bytes = std::min(o.max_request_line_bytes, o.max_header_bytes);
  o.max_body_bytes = max_body_bytes_;
  o.header_timeout = header_timeout_;
  o.read_timeout = read_timeout_;
  o.write_timeout = write_timeout_;
  o.idle_timeout = idle_timeout_;
  server_ = std::make_unique<http::Server>(o);
  const std::vector<std::string> get_head = {"GET", "HEAD"};
  server_->HandleExact("/metrics", http::Methods(get_head, http::Simple([](const http::Request&) {
                                                   http::Response r;
                                                   r.headers.emplace_back(
                                                       "Content-Type",
                                                       "text/plain; version=0.0.4; charset=utf-8");
                                                   r.body = metrics::Registry::Default().Expose();
                                                   return r;
                                                 })));
  server_->HandleExact("/healthz", http::Methods(get_head, http::Simple([](const http::Request&) {
                                                   return http::Response::Text(200, "ok\n");
                                                 })));
  server_->HandleExact(
      "/readyz", http::Methods(get_head, http::Simple([this](const http::Request&) {
                                 std::string details;
                                 for (const auto& detail : readiness_details_) {
                                   std::string line = detail();
                                   if (!line.empty()) details += "degraded: " + line + "\n";
                                 }
                                 return ready_ ? http::Response::Text(200, "ready\n" + details)
                                               : http::Response::Text(503, "not ready\n" + details);
                               })));
  return std::nullopt;
}

Status App::StartServer() {
  Status s = server_->Start();
  if (!s.ok()) return s;
  log::Info("listening",
            {{"address", listen_address_}, {"port", server_->port()}, {"tls", server_->tls()}});
  if (!tls_cert_file_.empty()) {
    tls_reload_ = std::thread([this] {
      std::unique_lock lock(tls_reload_mu_);
      while (!tls_reload_cv_.wait_for(lock, std::chrono::minutes(1),
                                      [this] { return tls_reload_stop_; })) {
        if (Status s = server_->ReloadTls(); !s.ok()) {
          log::Error("keeping the previous --web.tls-cert-file certificate", {{"err", s}});
        }
      }
    });
  }
  return Status::OK();
}

int App::WaitForShutdown() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  log::Info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  ready_ = false;
  return sig;
}

std::optional<int> App::WaitForShutdown(std::chrono::milliseconds timeout) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  int sig = sigtimedwait(&set, nullptr, &ts);
  if (sig < 0) return std::nullopt;  // EAGAIN (timeout) or EINTR
  log::Info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  ready_ = false;
  return sig;
}

void App::RequestShutdown() { kill(getpid(), SIGTERM); }

}  // namespace shardwise
