// App: what every Shardwise binary does the same way — the standard flags
// (--web.listen-address, --web.* TLS and limits, --log.level, --log.format, --help,
// --version), logging setup, the HTTP server with /metrics, /healthz and /readyz (GET and
// HEAD only), and shutdown on SIGTERM/SIGINT. A certificate given with --web.tls-cert-file is
// re-read every minute once the server runs (a rotated file is served without a restart; a
// broken one keeps the last good certificate).
//
//   App app("shardwise-scraper", "Scrapes targets ...", ":9091");
//   app.flags().String(...);                       // component flags
//   if (auto code = app.Init(argc, argv)) return *code;   // --help, --version, bad flags
//   app.server().Handle(...);                      // component endpoints
//   if (!app.StartServer().ok()) return 1;
//   app.SetReady(true);
//   app.WaitForShutdown();                         // returns on SIGTERM/SIGINT
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/flags/flags.h"
#include "common/http/server.h"

namespace shardwise {

// Set by CMake from the project version.
std::string_view Version();

class App {
 public:
  // An empty `default_listen_address` means the program serves no /metrics of its own
  // (e.g. the API simulator, whose listeners are its API): no --web.* flags, no server().
  App(std::string name, std::string description, std::string default_listen_address);
  ~App();

  FlagSet& flags() { return flags_; }
  // Parses flags and sets up logging. Returns an exit code when the program should stop
  // now (0 after --help/--version, 2 after a flag error), nullopt to go on.
  // Must be called before any thread starts: it blocks SIGTERM/SIGINT for all threads.
  std::optional<int> Init(int argc, char** argv);

  http::Server& server() { return *server_; }
  Status StartServer();
  void SetReady(bool ready) { ready_ = ready; }
  bool ready() const { return ready_; }
  // A component's degraded state for /readyz: `detail` returns a line to show (e.g. "WAL
  // disk full since ..."), or "" when healthy. Readiness itself is unchanged. Call before
  // StartServer.
  void AddReadinessDetail(std::function<std::string()> detail) {
    readiness_details_.push_back(std::move(detail));
  }
  const std::string& listen_address() const { return listen_address_; }

  // Blocks until SIGTERM or SIGINT. Returns the signal number.
  int WaitForShutdown();
  // The same, for at most `timeout`: the signal number, or nullopt when none came (a loop
  // that retries at startup stays interruptible).
  std::optional<int> WaitForShutdown(std::chrono::milliseconds timeout);
  // Makes WaitForShutdown return (tests, fatal errors).
  static void RequestShutdown();

 private:
  std::string name_;
  FlagSet flags_;
  std::string listen_address_;
  std::string tls_cert_file_;
  std::string tls_key_file_;
  size_t max_connections_ = 4096;
  size_t max_header_bytes_ = 64 << 10;
  size_t max_body_bytes_ = 64 << 20;
  std::chrono::milliseconds header_timeout_{std::chrono::seconds(30)};
  std::chrono::milliseconds read_timeout_{std::chrono::seconds(60)};
  std::chrono::milliseconds write_timeout_{std::chrono::seconds(60)};
  std::chrono::milliseconds idle_timeout_{std::chrono::seconds(120)};
  std::string log_level_ = "info";
  std::string log_format_ = "logfmt";
  std::unique_ptr<http::Server> server_;
  std::atomic<bool> ready_{false};
  std::vector<std::function<std::string()>> readiness_details_;
  std::mutex tls_reload_mu_;
  std::condition_variable tls_reload_cv_;
  bool tls_reload_stop_ = false;
  std::thread tls_reload_;
};

}  // namespace shardwise
