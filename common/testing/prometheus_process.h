// The real Prometheus (Debian's package on PATH) as a child process of a test: started on a
// loopback port with the test's own prometheus.yml, polled until ready, stopped and reaped
// on destruction. Tests use it as the reference implementation (remote read, PromQL).
#pragma once

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "common/http/client.h"
#include "common/testing/local_process.h"
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
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{binary, "--config.file=" + dir + "/prometheus.yml",
                                 "--storage.tsdb.path=" + dir + "/data",
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port),
                                 "--log.level=warn"},
        dir + "/prometheus.log");
    return process_->running();
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
    if (process_) process_->Stop();
  }
  bool Running() { return process_ && process_->Running(); }

  // What it wrote to stdout and stderr so far, for a failure message.
  std::string Log() const {
    std::ifstream log(dir_ + "/prometheus.log");
    return std::string((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  }

  // http://127.0.0.1:<port>, the base of its HTTP API.
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string dir_;
  int port_ = 0;
};

}  // namespace shardwise::testing
