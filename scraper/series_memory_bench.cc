// Heap bytes per active series in each per-series structure of the scraper, at 4 and 11
// labels per series (final labels, job and instance included):
//  - BM_ScrapeCache: one target's Ingester after two scrapes of N series (the scrape
//    cache: raw series text, ref, what staleness needs; the storage is a null sink).
//  - BM_Head: the TSDB head's index with N series and `samples` samples each (10 s apart;
//    30 = a 5 min head, 720 = a 2 h head).
//  - BM_RemoteWrite: remote-write queues (1 or 2 endpoints, sharing one SeriesStore or
//    each with its own) that have read N series records and sent one sample of each (their
//    series maps and labels; the WAL is in memory and not counted).
//  - BM_Pipeline: the whole scraper path as the binary runs it: 25 targets' Ingesters ->
//    DB (WAL and chunk files on disk) -> TsdbWalSource -> one remote-write queue, after
//    `scrapes` scrapes 10 s apart (720: a 2 h head).
//  - BM_SteadyStateAllocations: heap allocations per sample once warm, the whole path.
// Bytes are counted by a global operator new/delete in this binary (malloc_usable_size of
// every block, plus 8 bytes of allocator header), so every thread's allocations count and
// allocator rounding is included; RSS deltas are reported beside them.
//
//   build/scraper/series_memory_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "common/metrics/registry.h"
#include "common/testing/test_util.h"
#include "scraper/remotewrite/memory_wal.h"
#include "scraper/remotewrite/queue_manager.h"
#include "scraper/remotewrite/tsdb_wal_source.h"
#include "scraper/scrape/ingester.h"
#include "scraper/tsdb/db.h"
#include "scraper/tsdb/head.h"

namespace {
std::atomic<int64_t> g_heap_bytes{0};
std::atomic<int64_t> g_allocs{0};
constexpr int64_t kMallocHeader = 8;

void* CountedAlloc(size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (!p) throw std::bad_alloc();
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  g_heap_bytes.fetch_add(static_cast<int64_t>(malloc_usable_size(p)) + kMallocHeader,
                         std::memory_order_relaxed);
  return p;
}
void CountedFree(void* p) {
  if (!p) return;
  g_heap_bytes.fetch_sub(static_cast<int64_t>(malloc_usable_size(p)) + kMallocHeader,
                         std::memory_order_relaxed);
  std::free(p);
}
}  // namespace

void* operator new(size_t n) { return CountedAlloc(n); }
void* operator new[](size_t n) { return CountedAlloc(n); }
void operator delete(void* p) noexcept { CountedFree(p); }
void operator delete[](void* p) noexcept { CountedFree(p); }
void operator delete(void* p, size_t) noexcept { CountedFree(p); }
void operator delete[](void* p, size_t) noexcept { CountedFree(p); }

namespace shardwise {
namespace {

using namespace std::chrono_literals;

const Labels kTarget{{"instance", "10.1.2.3:9100"}, {"job", "kubernetes-pods"}};

// The exposed labels (besides the name) of series i with `total` final labels: total - 3
// exposed labels (name, job and instance make up the rest).
std::vector<Label> ExposedLabels(int i, int total) {
  static const char* kNames[] = {"code", "method",    "handler", "namespace",
                                 "pod",  "container", "service", "endpoint"};
  static const char* kMethods[] = {"GET", "POST", "PUT", "DELETE"};
  std::vector<Label> out;
  for (int k = 0; k < total - 3; ++k) {
    std::string v;
    switch (k) {
      case 0:  // alone, it must tell the series of one metric name apart
        v = total == 4 ? "item-" + std::to_string(i / 40) : std::to_string(200 + i % 7);
        break;
      case 1:
        v = kMethods[(i / 7) % 4];
        break;
      case 2:
        v = "/api/v1/items/" + std::to_string(i / 28);
        break;
      case 3:
        v = "shop";
        break;
      case 4:
        v = "frontend-7d9c8b6f5-" + std::to_string(i % 50);
        break;
      case 5:
        v = "app";
        break;
      case 6:
        v = "frontend";
        break;
      default:
        v = "http-metrics";
        break;
    }
    out.push_back({kNames[k], v});
  }
  return out;
}

std::string MetricName(int i) {
  return "http_server_requests_" + std::to_string(i % 40) + "_total";
}

Labels FinalLabels(int i, int total) {
  std::vector<Label> l = ExposedLabels(i, total);
  l.push_back({std::string(kMetricName), MetricName(i)});
  for (const auto& t : kTarget) l.push_back(t);
  return Labels::FromUnsorted(std::move(l));
}

std::string Body(int series, int total_labels, int scrape) {
  std::string body;
  for (int i = 0; i < series; ++i) {
    body += MetricName(i);
    body += '{';
    bool first = true;
    for (const auto& l : ExposedLabels(i, total_labels)) {
      if (!first) body += ',';
      first = false;
      body += l.name + "=\"" + l.value + "\"";
    }
    body += "} " + std::to_string(i + scrape) + "\n";
  }
  return body;
}

class NullSink : public storage::Appendable {
 public:
  class App : public storage::Appender {
   public:
    explicit App(NullSink* sink) : sink_(sink) {}
    Status Append(storage::SeriesRef& ref, const Labels&, int64_t, double) override {
      if (ref == 0) ref = ++sink_->next_ref;
      return Status::OK();
    }
    Status Commit() override { return Status::OK(); }
    void Rollback() override {}

   private:
    NullSink* sink_;
  };
  std::unique_ptr<storage::Appender> NewAppender() override { return std::make_unique<App>(this); }
  storage::SeriesRef next_ref = 0;
};

class AcceptAll : public remotewrite::Transport {
 public:
  remotewrite::SendAttempt Send(std::string_view) override {
    return {remotewrite::Verdict{}, 204, {}};
  }
};

void Report(benchmark::State& state, int64_t heap, double rss, int series) {
  state.counters["heap_B_per_series"] = static_cast<double>(heap) / series;
  state.counters["rss_B_per_series"] = rss / series;
}

constexpr int kSeries = 50'000;

void BM_ScrapeCache(benchmark::State& state) {
  const int labels = static_cast<int>(state.range(0));
  const std::string body0 = Body(kSeries, labels, 0), body1 = Body(kSeries, labels, 1);
  for (auto _ : state) {
    NullSink sink;
    const double rss0 = metrics::ProcessResidentBytes();
    const int64_t heap0 = g_heap_bytes.load();
    auto ing = std::make_unique<scrape::Ingester>(kTarget, scrape::IngestOptions{}, sink);
    ing->Ingest(body0, "text/plain; version=0.0.4", 1'000, 0.01);
    ing->Ingest(body1, "text/plain; version=0.0.4", 11'000, 0.01);
    Report(state, g_heap_bytes.load() - heap0, metrics::ProcessResidentBytes() - rss0, kSeries);
    benchmark::DoNotOptimize(ing);
  }
}
BENCHMARK(BM_ScrapeCache)->Arg(4)->Arg(11)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_Head(benchmark::State& state) {
  const int labels = static_cast<int>(state.range(0));
  const int samples = static_cast<int>(state.range(1));
  std::vector<Labels> sets;
  for (int i = 0; i < kSeries; ++i) sets.push_back(FinalLabels(i, labels));
  for (auto _ : state) {
    const double rss0 = metrics::ProcessResidentBytes();
    const int64_t heap0 = g_heap_bytes.load();
    auto head = std::make_unique<tsdb::Head>(tsdb::Head::Options{});
    std::vector<tsdb::SeriesRef> refs;
    refs.reserve(kSeries);
    for (const auto& l : sets) refs.push_back(*head->GetOrCreate(l));
    const int64_t refs_bytes = static_cast<int64_t>(refs.capacity() * sizeof(tsdb::SeriesRef));
    for (int k = 0; k < samples; ++k) {
      for (int i = 0; i < kSeries; ++i) head->Append(refs[i], 1'000 + k * 10'000, i + k * 3.0);
    }
    Report(state, g_heap_bytes.load() - heap0 - refs_bytes, metrics::ProcessResidentBytes() - rss0,
           kSeries);
    benchmark::DoNotOptimize(head);
  }
}
BENCHMARK(BM_Head)
    ->Args({4, 1})
    ->Args({11, 1})
    ->Args({4, 30})
    ->Args({11, 30})
    ->Args({4, 720})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

void BM_RemoteWrite(benchmark::State& state) {
  const int labels = static_cast<int>(state.range(0));
  const int endpoints = static_cast<int>(state.range(1));
  const bool shared = state.range(2) != 0;  // one SeriesStore for all, as RemoteWriter does
  for (auto _ : state) {
    remotewrite::MemoryWal wal;
    std::vector<remotewrite::WalSeries> series;
    std::vector<remotewrite::WalSample> samples;
    for (int i = 0; i < kSeries; ++i) {
      series.push_back({static_cast<uint64_t>(i + 1), FinalLabels(i, labels)});
      samples.push_back({static_cast<uint64_t>(i + 1), 1'000, 1.0});
    }
    wal.AppendSeries(std::move(series));
    wal.AppendSamples(std::move(samples));
    const double rss0 = metrics::ProcessResidentBytes();
    const int64_t heap0 = g_heap_bytes.load();
    auto store = shared ? std::make_shared<remotewrite::SeriesStore>() : nullptr;
    std::vector<std::unique_ptr<remotewrite::QueueManager>> queues;
    for (int e = 0; e < endpoints; ++e) {
      remotewrite::QueueOptions o;
      o.endpoint.url = "http://127.0.0.1:1/api/v1/write";
      o.endpoint.name = "bench" + std::to_string(e);
      o.external_labels = Labels{{"cluster", "prod-eu-1"}};
      o.series_store = store;
      queues.push_back(std::make_unique<remotewrite::QueueManager>(std::move(o), wal,
                                                                   std::make_unique<AcceptAll>()));
      if (!queues.back()->Start().ok()) state.SkipWithError("start");
    }
    for (auto& q : queues) {
      if (!q->Flush(std::chrono::steady_clock::now() + 60s).ok()) state.SkipWithError("flush");
    }
    Report(state, g_heap_bytes.load() - heap0, metrics::ProcessResidentBytes() - rss0, kSeries);
    for (auto& q : queues) q->Stop();
  }
}
// {labels, endpoints, shared store}: {L, 2, 0} is one copy per endpoint, as before.
BENCHMARK(BM_RemoteWrite)
    ->Args({4, 1, 1})
    ->Args({11, 1, 1})
    ->Args({4, 2, 0})
    ->Args({4, 2, 1})
    ->Args({11, 2, 0})
    ->Args({11, 2, 1})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// The scraper path as the binary runs it: `targets` Ingesters -> DB (WAL and chunk files in
// a temporary directory) -> TsdbWalSource -> one remote-write queue whose transport accepts
// without I/O.
class Pipeline {
 public:
  Pipeline(benchmark::State& state, int targets) : state_(state) {
    tsdb::DBOptions dbo;
    dbo.retention_interval = 0ms;
    auto db = tsdb::DB::Open(dir_.path(), dbo);
    if (!db.ok()) {
      state.SkipWithError("open");
      return;
    }
    db_ = std::move(*db);
    source_ = std::make_unique<remotewrite::TsdbWalSource>(*db_);
    remotewrite::QueueOptions o;
    o.endpoint.url = "http://127.0.0.1:1/api/v1/write";
    o.endpoint.name = "bench";
    queue_ = std::make_unique<remotewrite::QueueManager>(std::move(o), *source_,
                                                         std::make_unique<AcceptAll>());
    if (!queue_->Start().ok()) state.SkipWithError("start");
    for (int i = 0; i < targets; ++i) {
      Labels target{{"instance", "10.1.2." + std::to_string(i) + ":9100"},
                    {"job", "kubernetes-pods"}};
      targets_.push_back(std::make_unique<scrape::Ingester>(target, scrape::IngestOptions{}, *db_));
    }
  }
  ~Pipeline() {
    if (queue_) queue_->Stop();
  }
  bool ok() const { return queue_ != nullptr; }

  // Scrape k (10 s after scrape k-1) of every target, alternating between the two bodies.
  void Scrape(const std::vector<std::string>& bodies, int k) {
    for (auto& ing : targets_) {
      ing->Ingest(bodies[k % 2], "text/plain; version=0.0.4", kT0 + k * 10'000, 0.01);
    }
  }
  void Flush() {
    if (!queue_->Flush(std::chrono::steady_clock::now() + 60s).ok()) state_.SkipWithError("flush");
  }

 private:
  static constexpr int64_t kT0 = 1'700'000'000'000;
  benchmark::State& state_;
  testing::TempDir dir_;
  std::unique_ptr<tsdb::DB> db_;
  std::unique_ptr<remotewrite::TsdbWalSource> source_;
  std::unique_ptr<remotewrite::QueueManager> queue_;
  std::vector<std::unique_ptr<scrape::Ingester>> targets_;
};

void BM_Pipeline(benchmark::State& state) {
  const int labels = static_cast<int>(state.range(0));
  const int scrapes = static_cast<int>(state.range(1));
  // kSeries over 25 targets of 2,000 series, as a scraper's targets come.
  constexpr int kTargets = 25, kPerTarget = kSeries / kTargets;
  std::vector<std::string> bodies;
  for (int k = 0; k < 2; ++k) bodies.push_back(Body(kPerTarget, labels, k));
  for (auto _ : state) {
    const double rss0 = metrics::ProcessResidentBytes();
    const int64_t heap0 = g_heap_bytes.load();
    Pipeline p(state, kTargets);
    if (!p.ok()) break;
    for (int k = 0; k < scrapes; ++k) p.Scrape(bodies, k);
    p.Flush();
    Report(state, g_heap_bytes.load() - heap0, metrics::ProcessResidentBytes() - rss0, kSeries);
  }
}
BENCHMARK(BM_Pipeline)
    ->Args({4, 2})
    ->Args({11, 2})
    ->Args({4, 30})
    ->Args({4, 720})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// Allocations per sample in steady state, every thread of the path counted: scrape cache
// hit -> DB append -> WAL -> remote-write reader, queue, encoding (the transport accepts
// without I/O). What remains is per scrape or per request, not per sample.
void BM_SteadyStateAllocations(benchmark::State& state) {
  constexpr int kTargets = 10, kPerTarget = 2000;
  std::vector<std::string> bodies;
  for (int k = 0; k < 2; ++k) bodies.push_back(Body(kPerTarget, 6, k));
  for (auto _ : state) {
    Pipeline p(state, kTargets);
    if (!p.ok()) break;
    int k = 0;
    auto scrape_all = [&] {
      p.Scrape(bodies, k++);
      p.Flush();
    };
    for (int i = 0; i < 5; ++i) scrape_all();  // warm: caches, buffers, rings at size
    const int64_t allocs0 = g_allocs.load();
    constexpr int kScrapes = 20;
    for (int i = 0; i < kScrapes; ++i) scrape_all();
    const double allocs = static_cast<double>(g_allocs.load() - allocs0);
    state.counters["allocs_per_sample"] = allocs / (kScrapes * kTargets * kPerTarget);
    state.counters["allocs_per_scrape"] = allocs / (kScrapes * kTargets);
  }
}
BENCHMARK(BM_SteadyStateAllocations)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace shardwise
