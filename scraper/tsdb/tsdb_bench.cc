// TSDB benchmarks. Figures and commands are recorded in docs/benchmarks-tsdb.md.
//   BM_Append*          ns per sample through DB appenders (WAL write + head), one commit
//                       per simulated scrape
//   BM_ChunkBytes*      bytes per sample in closed XOR chunks for typical series shapes
//   BM_HeadBytes*       head memory per active series at a given retention
//   BM_Replay           ns per sample to replay a WAL on open
#include <benchmark/benchmark.h>

#include <cmath>
#include <filesystem>
#include <optional>
#include <random>

#include "common/metrics/registry.h"
#include "scraper/tsdb/chunkenc/chunk.h"
#include "scraper/tsdb/chunkenc/xor_chunk.h"
#include "scraper/tsdb/db.h"
#include "scraper/tsdb/head.h"
#include "scraper/tsdb/testutil.h"

namespace shardwise::tsdb {
namespace {

Labels BenchLabels(int i) {
  return Labels{{"__name__", "bench_metric_" + std::to_string(i % 100) + "_total"},
                {"instance",
                 "10.0." + std::to_string(i / 250 % 256) + "." + std::to_string(i % 250) + ":9100"},
                {"job", "node"},
                {"series", std::to_string(i)}};
}

// Synthetic series shapes, one generator per series:
//   kConstant    value never changes (up, info metrics, limits, sizes)
//   kCounter     monotonic integer counter, increments of 0..4 per scrape
//   kFloatGauge  random walk rounded to 2 decimals (temperatures, load averages)
// The "typical mix" is 50% constant, 35% counters, 15% float gauges.
enum class Shape { kConstant, kCounter, kFloatGauge };

Shape MixShape(int i) {
  int r = i % 20;
  if (r < 10) return Shape::kConstant;
  if (r < 17) return Shape::kCounter;
  return Shape::kFloatGauge;
}

class SeriesGen {
 public:
  SeriesGen(Shape shape, int i) : shape_(shape), v_(i % 7), i_(i) {}
  double Next(std::mt19937_64& rng) {
    switch (shape_) {
      case Shape::kConstant:
        break;
      case Shape::kCounter:
        v_ += static_cast<double>((k_ * 31 + i_ * 17) % 5);
        break;
      case Shape::kFloatGauge:
        v_ = std::round((v_ + static_cast<double>(rng() % 201) / 100 - 1.0) * 100) / 100;
        break;
    }
    ++k_;
    return v_;
  }

 private:
  Shape shape_;
  double v_;
  int i_;
  int64_t k_ = 0;
};

std::vector<SeriesGen> MixGens(int n) {
  std::vector<SeriesGen> gens;
  for (int i = 0; i < n; ++i) gens.emplace_back(MixShape(i), i);
  return gens;
}

void BM_Append(benchmark::State& state) {
  const int series = static_cast<int>(state.range(0));
  const bool fsync_each = state.range(1) != 0;
  testing::TempDir dir("bench_append");
  DBOptions o;
  o.retention_interval = std::chrono::milliseconds(0);
  o.fsync_policy = fsync_each ? FsyncPolicy::kEveryBatch : FsyncPolicy::kInterval;
  auto db = DB::Open(dir.path(), o);
  std::vector<Labels> labels;
  for (int i = 0; i < series; ++i) labels.push_back(BenchLabels(i));
  std::vector<storage::SeriesRef> refs(series, 0);
  std::mt19937_64 rng(1);
  auto gens = MixGens(series);
  int64_t k = 0;
  for (auto _ : state) {
    auto app = (*db)->NewAppender();
    for (int i = 0; i < series; ++i) {
      app->Append(refs[i], labels[i], k * 15'000, gens[i].Next(rng));
    }
    app->Commit();
    ++k;
  }
  state.SetItemsProcessed(state.iterations() * series);
  state.counters["ns_per_sample"] =
      benchmark::Counter(static_cast<double>(state.iterations() * series),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Append)
    ->Args({1000, 0})
    ->Args({10000, 0})
    ->Args({10000, 1})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// Bytes per sample across full 120-sample chunks for a population of series.
void ChunkBytes(benchmark::State& state, int jitter_ms, std::optional<Shape> shape) {
  std::mt19937_64 rng(7);
  const int kSeries = 1000;
  size_t bytes = 0, xor_bytes = 0, samples = 0;
  for (auto _ : state) {
    bytes = xor_bytes = samples = 0;
    for (int i = 0; i < kSeries; ++i) {
      chunkenc::XorAppender app;
      SeriesGen gen(shape ? *shape : MixShape(i), i);
      int64_t t = 1'700'000'000'000 + i;
      for (int k = 0; k < chunkenc::kSamplesPerChunk; ++k) {
        int64_t jitter =
            jitter_ms ? static_cast<int64_t>(rng() % (2 * jitter_ms + 1)) - jitter_ms : 0;
        app.Append(t + k * 15'000 + jitter, gen.Next(rng));
      }
      xor_bytes += app.bytes().size();
      samples += static_cast<size_t>(app.num_samples());
      bytes += chunkenc::Seal(app.Finish()).size();
    }
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["bytes_per_sample"] = static_cast<double>(bytes) / static_cast<double>(samples);
  state.counters["xor_only"] = static_cast<double>(xor_bytes) / static_cast<double>(samples);
}
void BM_ChunkBytesTypicalMix(benchmark::State& s) { ChunkBytes(s, 0, std::nullopt); }
void BM_ChunkBytesTypicalMixJitter2ms(benchmark::State& s) { ChunkBytes(s, 2, std::nullopt); }
void BM_ChunkBytesConstant(benchmark::State& s) { ChunkBytes(s, 0, Shape::kConstant); }
void BM_ChunkBytesCounter(benchmark::State& s) { ChunkBytes(s, 0, Shape::kCounter); }
void BM_ChunkBytesFloatGauge(benchmark::State& s) { ChunkBytes(s, 0, Shape::kFloatGauge); }
BENCHMARK(BM_ChunkBytesTypicalMix)->Iterations(3);
BENCHMARK(BM_ChunkBytesTypicalMixJitter2ms)->Iterations(3);
BENCHMARK(BM_ChunkBytesConstant)->Iterations(3);
BENCHMARK(BM_ChunkBytesCounter)->Iterations(3);
BENCHMARK(BM_ChunkBytesFloatGauge)->Iterations(3);

// Head memory per active series after `retention_s` seconds of 15 s scrapes.
void BM_HeadBytesPerSeries(benchmark::State& state) {
  const int series = static_cast<int>(state.range(0));
  const int scrapes = static_cast<int>(state.range(1)) / 15;
  std::mt19937_64 rng(3);
  size_t estimate = 0;
  double rss = 0;
  for (auto _ : state) {
    double rss_before = metrics::ProcessResidentBytes();
    auto head = std::make_unique<Head>(Head::Options{});
    std::vector<SeriesRef> refs;
    for (int i = 0; i < series; ++i) refs.push_back(*head->GetOrCreate(BenchLabels(i)));
    auto gens = MixGens(series);
    for (int k = 0; k < scrapes; ++k) {
      for (int i = 0; i < series; ++i) head->Append(refs[i], k * 15'000, gens[i].Next(rng));
    }
    estimate = head->MemoryBytes();
    rss = metrics::ProcessResidentBytes() - rss_before;
    benchmark::DoNotOptimize(head);
  }
  state.counters["est_bytes_per_series"] = static_cast<double>(estimate) / series;
  state.counters["rss_bytes_per_series"] = rss / series;
}
BENCHMARK(BM_HeadBytesPerSeries)
    ->Args({100'000, 300})   // 5 min retention
    ->Args({100'000, 7200})  // 2 h retention
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

void BM_Replay(benchmark::State& state) {
  testing::TempDir dir("bench_replay");
  const int series = 10'000, scrapes = 100;
  {
    DBOptions o;
    o.retention_interval = std::chrono::milliseconds(0);
    auto db = DB::Open(dir.path(), o);
    std::vector<storage::SeriesRef> refs(series, 0);
    std::mt19937_64 rng(5);
    auto gens = MixGens(series);
    for (int k = 0; k < scrapes; ++k) {
      auto app = (*db)->NewAppender();
      for (int i = 0; i < series; ++i) {
        app->Append(refs[i], BenchLabels(i), k * 15'000, gens[i].Next(rng));
      }
      app->Commit();
    }
  }
  for (auto _ : state) {
    DBOptions o;
    o.retention_interval = std::chrono::milliseconds(0);
    auto db = DB::Open(dir.path(), o);
    benchmark::DoNotOptimize(db);
    state.PauseTiming();
    db->reset();  // closing writes nothing but opens a fresh empty segment; drop it
    auto segs = *wal::ListSegments(dir.path() + "/wal");
    std::filesystem::remove(wal::SegmentPath(dir.path() + "/wal", segs.back()));
    state.ResumeTiming();
  }
  state.counters["ns_per_sample"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * series * scrapes,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Replay)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace
}  // namespace shardwise::tsdb
