// synth-targets: serves many synthetic Prometheus targets from one process, for side-by-side
// scraper benchmarks. Target i listens on 127.0.3.<i+1>:<port> (distinct loopback IPs, so
// every scraper sees ordinary host:port targets) and exposes --series series: counters that
// grow on every scrape, a few label pairs each, in the text format 0.0.4.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/app/app.h"
#include "common/http/server.h"
#include "common/log/log.h"

int main(int argc, char** argv) {
  using namespace shardwise;
  App app("synth-targets", "Serves synthetic Prometheus targets on 127.0.3.x for benchmarks.",
          "127.0.0.1:0");
  int64_t targets = 100, series = 1000, port = 9200;
  app.flags().Int("targets", &targets, "Number of targets (at most 250).");
  app.flags().Int("series", &series, "Series per target.");
  app.flags().Int("port", &port, "Port every target listens on (each on its own IP).");
  if (auto code = app.Init(argc, argv)) return *code;
  if (targets < 1 || targets > 250) {
    std::fprintf(stderr, "--targets must be 1..250\n");
    return 2;
  }
  // The series text without values, built once; values are appended per scrape.
  std::vector<std::string> names;
  names.reserve(static_cast<size_t>(series));
  for (int64_t k = 0; k < series; ++k) {
    names.push_back("synthetic_requests_total{handler=\"/api/v1/item/" + std::to_string(k % 97) +
                    "\",method=\"" + (k % 2 ? "GET" : "POST") + "\",code=\"" +
                    std::to_string(200 + k % 5) + "\",series=\"" + std::to_string(k) + "\"} ");
  }
  std::vector<std::unique_ptr<http::Server>> servers;
  auto scrapes = std::make_shared<std::vector<std::atomic<int64_t>>>(static_cast<size_t>(targets));
  for (int64_t i = 0; i < targets; ++i) {
    http::Server::Options o;
    o.listen_address = "127.0.3." + std::to_string(i + 1) + ":" + std::to_string(port);
    auto s = std::make_unique<http::Server>(o);
    s->Handle("/metrics", http::Simple([&names, scrapes, i](const http::Request&) {
                int64_t n = ++(*scrapes)[static_cast<size_t>(i)];
                std::string body =
                    "# HELP synthetic_requests_total Synthetic counter.\n"
                    "# TYPE synthetic_requests_total counter\n";
                body.reserve(names.size() * 96);
                for (size_t k = 0; k < names.size(); ++k) {
                  body += names[k];
                  body += std::to_string(n * static_cast<int64_t>(k % 13 + 1));
                  body += '\n';
                }
                return http::Response::Text(200, std::move(body))
                    .With("Content-Type", "text/plain; version=0.0.4");
              }));
    if (auto st = s->Start(); !st.ok()) {
      log::Error("cannot listen", {{"address", o.listen_address}, {"err", st}});
      return 1;
    }
    servers.push_back(std::move(s));
  }
  log::Info("serving", {{"targets", targets}, {"series", series}, {"port", port}});
  app.SetReady(true);
  app.WaitForShutdown();
  for (auto& s : servers) s->Stop();
  return 0;
}
