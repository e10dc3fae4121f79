// Helpers for the operator client's tests: loopback metric targets and plan targets.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "common/http/server.h"
#include "common/plan/plan.h"
#include "scraper/scrape/scrape_test_util.h"

namespace shardwise::opclient::testing {

using scrape::testing::TempDir;
using scrape::testing::WaitFor;

// A real HTTP target on 127.0.0.1 exposing `series` gauges named "<prefix>_<i>".
class MetricsTarget {
 public:
  MetricsTarget(std::string prefix, int series) : prefix_(std::move(prefix)), series_(series) {
    server_.HandleExact("/metrics", http::Simple([this](const http::Request& req) {
                          {
                            std::lock_guard lock(mu_);
                            authorization_ = std::string(req.Header("Authorization"));
                          }
                          ++scrapes_;
                          std::string body;
                          for (int i = 0; i < series_; ++i) {
                            body += fmt::format("{}_{} {}\n", prefix_, i, i);
                          }
                          return http::Response::Text(200, body);
                        }));
    if (!server_.Start().ok()) std::abort();
  }
  ~MetricsTarget() { server_.Stop(); }
  std::string address() const { return server_.address(); }
  int scrapes() const { return scrapes_.load(); }
  std::string last_authorization() const {
    std::lock_guard lock(mu_);
    return authorization_;
  }

 private:
  const std::string prefix_;
  const int series_;
  std::atomic<int> scrapes_{0};
  mutable std::mutex mu_;
  std::string authorization_;
  http::Server server_{{}};
};

// A plan target for `address` with job "node" and final labels {job, instance, extra}.
inline plan::Target PlanTarget(uint64_t id, const std::string& address, const std::string& instance,
                               Labels extra = {}) {
  plan::Target t;
  t.id = id;
  t.job = "node";
  t.address = address;
  LabelsBuilder b(extra);
  b.Set("job", "node");
  b.Set("instance", instance);
  t.labels = b.Build();
  t.interval = std::chrono::milliseconds(200);
  t.timeout = std::chrono::milliseconds(150);
  return t;
}

}  // namespace shardwise::opclient::testing
