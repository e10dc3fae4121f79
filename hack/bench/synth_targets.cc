// synth-targets: serves many synthetic Prometheus targets from one process, for side-by-side
// scraper benchmarks. Target i listens on 127.0.3.<i+1>:<port> (distinct loopback IPs, so
// every scraper sees ordinary host:port targets) and exposes about --series series in the
// text format 0.0.4, shaped by --shape:
//   counters  one counter family, 4 labels per series, every value growing each scrape;
//   exporter  as an exporter's page: 49 families with HELP/TYPE, 3 to 6 labels each, a
//             third of the families histograms (10 buckets + _sum + _count per label set),
//             the rest counters and gauges.
// Every series name starts with "synth" (benchmarks count what arrived with synth.*).
#include <unistd.h>

#include <algorithm>
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
  std::string shape = "counters";
  app.flags().Int("targets", &targets, "Number of targets (at most 250).");
  app.flags().Int("series", &series, "Series per target.");
  app.flags().Int("port", &port, "Port every target listens on (each on its own IP).");
  app.flags().String("shape", &shape, "counters or exporter (see the file comment).");
  if (auto code = app.Init(argc, argv)) return *code;
  if (targets < 1 || targets > 250) {
    std::fprintf(stderr, "--targets must be 1..250\n");
    return 2;
  }
  if (shape != "counters" && shape != "exporter") {
    std::fprintf(stderr, "--shape must be counters or exporter\n");
    return 2;
  }
  // The page without values, built once: lines[k] is a series text up to the value, or a
  // whole # line (step[k] < 0); values are appended per scrape, growing by step[k].
  std::vector<std::string> names;
  std::vector<int64_t> step;
  if (shape == "counters") {
    names.push_back(
        "# HELP synthetic_requests_total Synthetic counter.\n"
        "# TYPE synthetic_requests_total counter\n");
    step.push_back(-1);
    for (int64_t k = 0; k < series; ++k) {
      names.push_back("synthetic_requests_total{handler=\"/api/v1/item/" + std::to_string(k % 97) +
                      "\",method=\"" + (k % 2 ? "GET" : "POST") + "\",code=\"" +
                      std::to_string(200 + k % 5) + "\",series=\"" + std::to_string(k) + "\"} ");
      step.push_back(k % 13 + 1);
    }
  } else {
    static const char* kLabelNames[] = {"handler", "method", "code", "device", "mode", "path"};
    static const char* kLe[] = {"0.005", "0.01", "0.025", "0.05", "0.1",
                                "0.25",  "0.5",  "1",     "2.5",  "+Inf"};
    constexpr int kFamilies = 49;
    const int64_t per_family = std::max<int64_t>(series / kFamilies, 1);
    for (int f = 0; f < kFamilies; ++f) {
      const bool histogram = f % 3 == 0;
      const bool gauge = f % 3 == 2;
      const std::string family = "synth_exporter_" + std::to_string(f) +
                                 (histogram ? "_seconds"
                                  : gauge   ? "_bytes"
                                            : "_total");
      names.push_back("# HELP " + family + " Synthetic " + (histogram ? "histogram" : "metric") +
                      " number " + std::to_string(f) + ".\n# TYPE " + family + " " +
                      (histogram ? "histogram"
                       : gauge   ? "gauge"
                                 : "counter") +
                      "\n");
      step.push_back(-1);
      const int nlabels = 3 + f % 4;
      // A histogram label set is 12 series: as many sets as make per_family series.
      const int64_t sets = histogram ? std::max<int64_t>(per_family / 12, 1) : per_family;
      for (int64_t k = 0; k < sets; ++k) {
        std::string labels;
        for (int l = 0; l < nlabels; ++l) {
          if (l) labels += ',';
          // The last label tells the sets apart; the others repeat, as real ones do.
          std::string v =
              l == nlabels - 1 ? "v" + std::to_string(k) : std::to_string((k >> l) % (3 + l));
          labels += std::string(kLabelNames[l]) + "=\"" + v + "\"";
        }
        if (!histogram) {
          names.push_back(family + "{" + labels + "} ");
          step.push_back(gauge ? 0 : k % 7 + 1);
          continue;
        }
        const std::string& base = family;
        for (int b = 0; b < 10; ++b) {
          names.push_back(base + "_bucket{" + labels + ",le=\"" + kLe[b] + "\"} ");
          step.push_back(b + 1);
        }
        names.push_back(base + "_sum{" + labels + "} ");
        step.push_back(3);
        names.push_back(base + "_count{" + labels + "} ");
        step.push_back(10);
      }
    }
  }
  size_t series_lines = 0;
  for (int64_t s : step) series_lines += s >= 0 ? 1 : 0;
  std::vector<std::unique_ptr<http::Server>> servers;
  auto scrapes = std::make_shared<std::vector<std::atomic<int64_t>>>(static_cast<size_t>(targets));
  for (int64_t i = 0; i < targets; ++i) {
    http::Server::Options o;
    o.listen_address = "127.0.3." + std::to_string(i + 1) + ":" + std::to_string(port);
    auto s = std::make_unique<http::Server>(o);
    s->Handle("/metrics", http::Simple([&names, &step, scrapes, i](const http::Request&) {
                int64_t n = ++(*scrapes)[static_cast<size_t>(i)];
                std::string body;
                body.reserve(names.size() * 96);
                for (size_t k = 0; k < names.size(); ++k) {
                  body += names[k];
                  if (step[k] < 0) continue;
                  // Gauges (step 0) move up and down.
                  body += std::to_string(step[k] > 0 ? n * step[k] : (n * 7919 + k) % 1000);
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
  log::Info("serving",
            {{"targets", targets}, {"series", series_lines}, {"shape", shape}, {"port", port}});
  // For scripts: the exact series count per target.
  std::printf("series_per_target %zu\n", series_lines);
  std::fflush(stdout);
  app.SetReady(true);
  app.WaitForShutdown();
  for (auto& s : servers) s->Stop();
  return 0;
}
