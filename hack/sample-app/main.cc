// shardwise-sample-app: a small instrumented workload for the local cluster (see
// sample_app.h). Stops on SIGTERM/SIGINT.
#include "common/app/app.h"
#include "common/log/log.h"
#include "hack/sample-app/sample_app.h"

int main(int argc, char** argv) {
  using namespace shardwise;
  App app("shardwise-sample-app",
          "A small instrumented HTTP workload: request counters, a latency histogram, synthetic "
          "series and load on demand (POST /control?rps=N, ?series=N), and a log of scrapes "
          "(/scrapes).",
          /*default_listen_address=*/"");
  std::string listen = ":8080";
  int64_t series = 0;
  double rps = 0;
  app.flags().String("listen-address", &listen,
                     "HOST:PORT to serve on (manifests give $(POD_IP):8080).");
  app.flags().Int("series", &series, "Synthetic series to export from the start.");
  app.flags().Double("rps", &rps, "Internal request rate from the start.");
  if (auto code = app.Init(argc, argv)) return *code;
  sampleapp::SampleApp sample(listen);
  if (Status s = sample.Start(); !s.ok()) {
    log::Error("start failed", {{"err", s}});
    return 1;
  }
  if (series < 0 || series > 1000000 || !(rps >= 0)) {
    log::Error("--series wants 0..1000000 and --rps a non-negative number");
    return 2;
  }
  sample.SetLoad(rps, series);
  log::Info("serving", {{"address", listen}, {"port", sample.port()}});
  app.WaitForShutdown();
  sample.Stop();
  return 0;
}
