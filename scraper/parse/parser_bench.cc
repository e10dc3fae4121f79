// parse_bench: cost of the exposition parser on recorded and synthetic bodies.
//   NextSeriesValue        — the steady-state scrape path (scrape-cache hit): Next(),
//                            Series() and Value() for every sample.
//   NextSeriesValueLabels  — first-scrape cost: additionally Labels() for every sample.
//   NextSeriesValueTimestamp — the steady-state path plus TimestampMs(), as the ingester
//                            asks for it on every sample.
// Counters: bytes_per_second (MB/s) and ns_per_sample (total time / samples).
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "scraper/parse/parser.h"

namespace shardwise::parse {
namespace {

std::string ReadTestdata(const std::string& file) {
  std::ifstream in(std::string(SHARDWISE_TESTDATA_DIR) + "/" + file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// 10,000 series in 100 families, shaped like a busy application: four labels per series,
// a mix of integer and fractional values.
std::string Synthetic(Format format) {
  std::string out;
  const bool om = format == Format::kOpenMetrics;
  for (int family = 0; family < 100; ++family) {
    const std::string name = "app_requests_" + std::to_string(family);
    out += "# HELP " + name + " Requests handled by the application.\n";
    out += "# TYPE " + name + " counter\n";
    for (int i = 0; i < 100; ++i) {
      const int id = family * 100 + i;
      out += name + "_total{method=\"" + (i % 3 ? "GET" : "POST") + "\",code=\"" +
             (i % 7 ? "200" : "500") + "\",handler=\"/api/v1/items/" + std::to_string(i) +
             "\",instance=\"10.0." + std::to_string(id / 256) + "." + std::to_string(id % 256) +
             ":8080\"} ";
      out += (i % 2) ? std::to_string(id * 1234 + 17) : std::to_string(id * 0.37 + 0.001);
      out += '\n';
    }
  }
  if (om) out += "# EOF\n";
  return out;
}

const std::string& Body(int which) {
  static const std::string* bodies[] = {
      new std::string(ReadTestdata("node_exporter.prom")),
      new std::string(ReadTestdata("node_exporter.om.txt")),
      new std::string(ReadTestdata("prometheus.prom")),
      new std::string(Synthetic(Format::kPrometheusText)),
      new std::string(Synthetic(Format::kOpenMetrics)),
  };
  return *bodies[which];
}

Format FormatOf(int which) {
  return (which == 1 || which == 4) ? Format::kOpenMetrics : Format::kPrometheusText;
}

const char* const kBodyNames[] = {"node_exporter.prom", "node_exporter.om.txt", "prometheus.prom",
                                  "synthetic_10k.prom", "synthetic_10k.om.txt"};

template <bool kWithLabels, bool kWithTimestamp = false>
void Run(benchmark::State& state) {
  const int which = static_cast<int>(state.range(0));
  const std::string& body = Body(which);
  const Format format = FormatOf(which);
  state.SetLabel(kBodyNames[which]);
  LabelsBuilder builder;
  int64_t samples = 0;
  for (auto _ : state) {
    auto p = Parser::New(format, body);
    for (;;) {
      const Entry e = p->Next();
      if (e == Entry::kSeries) {
        benchmark::DoNotOptimize(p->Series());
        benchmark::DoNotOptimize(p->Value());
        if constexpr (kWithTimestamp) benchmark::DoNotOptimize(p->TimestampMs());
        if constexpr (kWithLabels) {
          p->Labels(builder);
          benchmark::DoNotOptimize(builder);
        }
        ++samples;
      } else if (e == Entry::kEnd) {
        break;
      } else if (e == Entry::kError) {
        state.SkipWithError(std::string(p->error().message()).c_str());
        return;
      }
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(body.size()));
  state.counters["ns_per_sample"] =
      benchmark::Counter(static_cast<double>(samples) * 1e-9,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["samples"] =
      static_cast<double>(samples) / static_cast<double>(state.iterations());
}

// The floor: finding every line end with memchr and nothing else.
void BM_LineSplitBaseline(benchmark::State& state) {
  const int which = static_cast<int>(state.range(0));
  const std::string& body = Body(which);
  state.SetLabel(kBodyNames[which]);
  for (auto _ : state) {
    size_t lines = 0;
    const char* p = body.data();
    const char* const end = p + body.size();
    while (p < end) {
      const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
      p = nl ? static_cast<const char*>(nl) + 1 : end;
      ++lines;
    }
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(body.size()));
}

void BM_NextSeriesValue(benchmark::State& state) { Run<false>(state); }
void BM_NextSeriesValueLabels(benchmark::State& state) { Run<true>(state); }
// The ingest loop's path: also asks for the exposed timestamp (none in these bodies).
void BM_NextSeriesValueTimestamp(benchmark::State& state) { Run<false, true>(state); }

BENCHMARK(BM_LineSplitBaseline)->DenseRange(0, 4);
BENCHMARK(BM_NextSeriesValue)->DenseRange(0, 4);
BENCHMARK(BM_NextSeriesValueLabels)->DenseRange(0, 4);
BENCHMARK(BM_NextSeriesValueTimestamp)->DenseRange(0, 4);

}  // namespace
}  // namespace shardwise::parse
