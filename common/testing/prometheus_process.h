// The real Prometheus (Debian's package on PATH) as a child process of a test: started on a
// loopback port with the test's own prometheus.yml, polled until ready, stopped and reaped
// on destruction. Tests use it as the reference implementation (remote read, PromQL).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>

#include "common/http/client.h"
#include "common/testing/test_util.h"

namespace shardwise::testing {

class PrometheusProcess {
 public:
  PrometheusProcess() = default;
  ~PrometheusProcess() { Stop(); }
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;

  // Runs `binary` with `dir`/prometheus.yml (written by the test), its storage in `dir`/data
  // and its log in `dir`/prometheus.log, listening on 127.0.0.1:`port`.
  bool Start(const std::string& binary, const std::string& dir, int port) {
    dir_ = dir;
    port_ = port;
    std::string log = dir + "/prometheus.log";
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      std::string config = "--config.file=" + dir + "/prometheus.yml";
      std::string storage = "--storage.tsdb.path=" + dir + "/data";
      std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
      ::execl(binary.c_str(), binary.c_str(), config.c_str(), storage.c_str(), listen.c_str(),
              "--log.level=warn", static_cast<char*>(nullptr));
      _exit(127);
    }
    return true;
  }

  // Polls /-/ready until it answers 200; false when the process exits first or `limit`
  // passes (Log() then says why).
  bool WaitReady(std::chrono::milliseconds limit) {
    http::Client client;
    bool answered = WaitFor(
        [&] {
          auto r = client.DoSync(
              {.url = url() + "/-/ready", .timeout = std::chrono::milliseconds(1000)});
          return (r.ok() && r->status == 200) || !Running();
        },
        limit);
    return answered && Running();
  }

  // SIGTERM, up to 10 s for a clean exit, then SIGKILL; always reaps.
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status;
    bool exited = WaitFor([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; },
                          std::chrono::seconds(10));
    if (!exited) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }

  bool Running() {
    if (pid_ <= 0) return false;
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == 0) return true;
    pid_ = -1;  // reaped (or gone): never signal that pid again
    return false;
  }

  // What it wrote to stdout and stderr so far, for a failure message.
  std::string Log() const {
    std::ifstream log(dir_ + "/prometheus.log");
    return std::string((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  }

  // http://127.0.0.1:<port>, the base of its HTTP API.
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  pid_t pid_ = -1;
  std::string dir_;
  int port_ = 0;
};

}  // namespace shardwise::testing
