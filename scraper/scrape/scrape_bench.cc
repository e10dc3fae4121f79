// Benchmarks of the scrape engine. Run:
//   build-scrape/scraper/scrape/scrape_bench
// Per-sample figures are reported as ns per item (items = samples).
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "common/http/server.h"
#include "common/metrics/registry.h"
#include "scraper/scrape/ingester.h"
#include "scraper/scrape/scrape_loop.h"
#include "scraper/scrape/scrape_test_util.h"

namespace shardwise::scrape {
namespace {

// An Appendable that does the minimum a real one must: hand out refs, accept samples.
class NullSink : public storage::Appendable {
 public:
  class App : public storage::Appender {
   public:
    explicit App(NullSink* sink) : sink_(sink) {}
    Status Append(storage::SeriesRef& ref, const Labels&, int64_t, double v) override {
      if (ref == 0) ref = ++sink_->next_ref;
      sum_ += v;
      return Status::OK();
    }
    Status Commit() override {
      benchmark::DoNotOptimize(sum_);
      return Status::OK();
    }
    void Rollback() override {}

   private:
    NullSink* sink_;
    double sum_ = 0;
  };
  std::unique_ptr<storage::Appender> NewAppender() override { return std::make_unique<App>(this); }
  storage::SeriesRef next_ref = 0;
};

// A node-exporter-like body: `series` samples over 50 metric families, 3 labels each.
std::string SyntheticBody(int series) {
  std::string body;
  body.reserve(series * 80);
  const int families = 50;
  for (int f = 0; f < families; ++f) {
    body += "# HELP synthetic_metric_" + std::to_string(f) + "_total A synthetic counter.\n";
    body += "# TYPE synthetic_metric_" + std::to_string(f) + "_total counter\n";
    for (int i = f; i < series; i += families) {
      body += "synthetic_metric_" + std::to_string(f) + "_total{cpu=\"" + std::to_string(i % 64) +
              "\",mode=\"user\",device=\"dev" + std::to_string(i) + "\"} " +
              std::to_string(i * 1.5) + "\n";
    }
  }
  return body;
}

const Labels kTarget{{"instance", "10.0.0.1:9100"}, {"job", "node"}};
constexpr std::string_view kText = "text/plain; version=0.0.4";

void BM_SteadyState(benchmark::State& state) {
  std::string body = SyntheticBody(static_cast<int>(state.range(0)));
  NullSink sink;
  Ingester ing(kTarget, {}, sink);
  if (!ing.Ingest(body, kText, 1000, 0).status.ok()) state.SkipWithError("ingest failed");
  int64_t ts = 2000;
  size_t samples = 0;
  for (auto _ : state) {
    IngestResult r = ing.Ingest(body, kText, ts += 1000, 0);
    samples += r.samples_post_relabel;
  }
  state.SetItemsProcessed(static_cast<int64_t>(samples));
  state.counters["bytes_per_sample"] = static_cast<double>(body.size()) / state.range(0);
}
BENCHMARK(BM_SteadyState)->Arg(10000)->Unit(benchmark::kMicrosecond);

void BM_SteadyStateNodeExporter(benchmark::State& state) {
  const char* dir = std::getenv("SHARDWISE_SOURCE_DIR");
  std::ifstream in(std::string(dir ? dir : ".") + "/scraper/testdata/node_exporter.prom");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string body = buffer.str();
  NullSink sink;
  Ingester ing(kTarget, {}, sink);
  IngestResult first = ing.Ingest(body, kText, 1000, 0);
  if (!first.status.ok()) {
    state.SkipWithError(("ingest failed: " + first.status.ToString()).c_str());
    return;
  }
  int64_t ts = 2000;
  size_t samples = 0;
  for (auto _ : state) samples += ing.Ingest(body, kText, ts += 1000, 0).samples_post_relabel;
  state.SetItemsProcessed(static_cast<int64_t>(samples));
}
BENCHMARK(BM_SteadyStateNodeExporter)->Unit(benchmark::kMicrosecond);

// A cold cache every time: label parsing, target-label merge, cache inserts, new refs.
void BM_FirstScrape(benchmark::State& state) {
  std::string body = SyntheticBody(static_cast<int>(state.range(0)));
  NullSink sink;
  size_t samples = 0;
  for (auto _ : state) {
    Ingester ing(kTarget, {}, sink);
    samples += ing.Ingest(body, kText, 1000, 0).samples_post_relabel;
  }
  state.SetItemsProcessed(static_cast<int64_t>(samples));
}
BENCHMARK(BM_FirstScrape)->Arg(10000)->Unit(benchmark::kMicrosecond);

// One full scrape over loopback HTTP: request, response, parse, cache, append.
void BM_LoopbackScrape(benchmark::State& state) {
  std::string body = SyntheticBody(static_cast<int>(state.range(0)));
  const bool gzip = state.range(1) != 0;
  std::string gzipped = testing::Gzip(body);
  http::Server server({});
  server.Handle("/metrics", http::Simple([&](const http::Request&) {
                  if (!gzip) return http::Response::Text(200, body);
                  return http::Response::Text(200, gzipped).With("Content-Encoding", "gzip");
                }));
  if (!server.Start().ok()) {
    state.SkipWithError("server failed to start");
    return;
  }
  http::Client client;
  NullSink sink;
  auto scheduler = std::make_shared<Scheduler>(1);
  ScrapeConfig config = testing::ParseJob("{job_name: node, scrape_interval: 10s}");
  auto loop = std::make_shared<ScrapeLoop>(testing::MakeTarget(config, server.address()), config,
                                           relabel::Relabeler(), scheduler, client, sink);
  size_t samples = 0;
  // The work happens on the client's and the server's threads: count the whole process.
  const double cpu_start = metrics::ProcessCpuSeconds();
  for (auto _ : state) {
    IngestResult r = loop->ScrapeOnce();
    if (!r.status.ok()) {
      state.SkipWithError(r.status.ToString().c_str());
      break;
    }
    samples += r.samples_post_relabel;
  }
  state.SetItemsProcessed(static_cast<int64_t>(samples));
  if (samples > 0) {
    state.counters["process_cpu_ns_per_sample"] =
        (metrics::ProcessCpuSeconds() - cpu_start) * 1e9 / static_cast<double>(samples);
  }
  loop->Stop(false);
  scheduler->Stop();
  server.Stop();
}
BENCHMARK(BM_LoopbackScrape)
    ->Args({10000, 0})
    ->Args({10000, 1})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
}  // namespace shardwise::scrape
