// SampleApp: a small workload of ours for the local cluster's end-to-end tests and the
// demo. It serves
//   /metrics   http_requests_total{code,method,path} (counter), http_request_duration_seconds
//              (histogram), sample_app_synthetic{index="i"} (N gauges), sample_app_scrapes_total,
//              plus the process metrics;
//   /control   POST ?rps=N: the request counter grows by N per second internally (load without
//              traffic); POST ?series=N: export N synthetic series;
//   /scrapes   JSON log of the last 10000 /metrics requests: [{"time","remote","userAgent"}];
//   /healthz, /readyz.
// Everything here is loopback-only in tests; the address comes from --listen-address.
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "common/http/server.h"
#include "common/metrics/registry.h"

namespace shardwise::sampleapp {

class SampleApp {
 public:
  explicit SampleApp(std::string listen_address);
  ~SampleApp();
  Status Start();
  void Stop();
  int port() const { return server_.port(); }
  // What POST /control sets.
  void SetLoad(double rps, long long series) {
    rps_ = rps;
    series_ = series;
  }

 private:
  http::Response Metrics(const http::Request& req);
  http::Response Control(const http::Request& req);
  http::Response Scrapes(const http::Request& req);
  void Count(const std::string& path, const std::string& method, int code, double seconds);
  void LoadLoop();

  http::Server server_;
  metrics::Registry registry_;
  metrics::CounterFamily& requests_;
  metrics::HistogramFamily& durations_;
  metrics::Counter& scrapes_;
  std::atomic<long long> series_{0};
  std::atomic<double> rps_{0};
  std::mutex mu_;
  std::deque<std::tuple<double, std::string, std::string>> scrape_log_;
  std::atomic<bool> stop_{false};
  std::thread load_;
};

}  // namespace shardwise::sampleapp
