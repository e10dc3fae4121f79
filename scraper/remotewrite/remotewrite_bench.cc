// Remote-write cost per sample:
//  - BM_Encode{Handwritten,Libprotobuf}: building the WriteRequest bytes, ours vs
//    libprotobuf with a reused message (the same input, byte-identical output).
//  - BM_EncodeCompress: ours + snappy, i.e. the CPU of preparing one request body.
//  - BM_QueueToLoopbackSink: the whole path (WAL reader, sharding, batching, encoding,
//    snappy, HTTP POST) into a loopback server that answers 204; process CPU time.
//  - BM_VictoriaMetricsSustained: the same into a real victoria-metrics on loopback
//    (skipped when it is not installed); reports samples/s and process CPU per sample.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "common/http/server.h"
#include "common/prompb/remote.pb.h"
#include "scraper/remotewrite/encoder.h"
#include "scraper/remotewrite/memory_wal.h"
#include "scraper/remotewrite/queue_manager.h"
#include "scraper/remotewrite/test_receiver.h"

namespace shardwise::remotewrite {
namespace {

using namespace std::chrono_literals;

Labels BenchLabels(int i) {
  return Labels{
      {"__name__", "http_requests_total"},
      {"cluster", "prod-eu-1"},
      {"container", "app"},
      {"instance", "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":8080"},
      {"job", "kubernetes-pods"},
      {"namespace", "shop"},
      {"pod", "frontend-7d9c8b-" + std::to_string(i)},
      {"status", "200"}};
}

struct Batch {
  std::vector<Labels> labels;
  std::vector<std::string> encoded_labels;
  std::vector<std::vector<Sample>> samples;
  size_t total = 0;
};

// 2000 samples, the default max_samples_per_send, as `per_series` samples per series.
Batch MakeBatch(int per_series) {
  Batch b;
  int series = 2000 / per_series;
  for (int i = 0; i < series; ++i) {
    b.labels.push_back(BenchLabels(i));
    b.encoded_labels.emplace_back();
    EncodeLabels(b.labels.back(), &b.encoded_labels.back());
    std::vector<Sample> s;
    for (int j = 0; j < per_series; ++j) {
      s.push_back({1'763'700'000'000 + j * 15000LL, static_cast<double>(i * 31 + j)});
    }
    b.total += s.size();
    b.samples.push_back(std::move(s));
  }
  return b;
}

void BM_EncodeHandwritten(benchmark::State& state) {
  Batch b = MakeBatch(static_cast<int>(state.range(0)));
  WriteRequestEncoder enc;
  for (auto _ : state) {
    enc.Reset();
    for (size_t i = 0; i < b.labels.size(); ++i) enc.AddSeries(b.encoded_labels[i], b.samples[i]);
    benchmark::DoNotOptimize(enc.bytes().data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * b.total));
  state.counters["bytes_per_sample"] = static_cast<double>(enc.bytes().size()) / b.total;
}
BENCHMARK(BM_EncodeHandwritten)->Arg(1)->Arg(10);

void BM_EncodeLibprotobuf(benchmark::State& state) {
  Batch b = MakeBatch(static_cast<int>(state.range(0)));
  prometheus::WriteRequest req;
  std::string out;
  for (auto _ : state) {
    req.Clear();  // keeps allocated sub-messages for reuse
    for (size_t i = 0; i < b.labels.size(); ++i) {
      auto* ts = req.add_timeseries();
      for (const auto& l : b.labels[i]) {
        auto* pl = ts->add_labels();
        pl->set_name(l.name);
        pl->set_value(l.value);
      }
      for (const auto& s : b.samples[i]) {
        auto* ps = ts->add_samples();
        ps->set_value(s.value);
        ps->set_timestamp(s.t_ms);
      }
    }
    req.SerializeToString(&out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * b.total));
}
BENCHMARK(BM_EncodeLibprotobuf)->Arg(1)->Arg(10);

void BM_EncodeCompress(benchmark::State& state) {
  Batch b = MakeBatch(static_cast<int>(state.range(0)));
  WriteRequestEncoder enc;
  std::string compressed;
  for (auto _ : state) {
    enc.Reset();
    for (size_t i = 0; i < b.labels.size(); ++i) enc.AddSeries(b.encoded_labels[i], b.samples[i]);
    SnappyCompress(enc.bytes(), &compressed);
    benchmark::DoNotOptimize(compressed.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * b.total));
  state.counters["compressed_bytes_per_sample"] = static_cast<double>(compressed.size()) / b.total;
}
BENCHMARK(BM_EncodeCompress)->Arg(1)->Arg(10);

// Encoding + snappy as a queue shard does it, over labels that are cold in the cache:
// 400,000 series (their blocks and ~1.2 M distinct label pairs in a SeriesStore and its
// own LabelPairTable, allocated in random order) sent 2,000 at a time, so each block and
// pair was last touched long ago, as at a 10 s interval with many series. Arg: prefetch
// distance in series for the blocks (0: none); their pairs are fetched at half of it, as
// QueueManager::SendBatch does at 16/8.
void BM_EncodeCompressColdLabels(benchmark::State& state) {
  constexpr uint64_t kSeries = 400'000, kBatch = 2000;
  const size_t ahead = static_cast<size_t>(state.range(0));
  SeriesStore store(std::make_shared<storage::LabelPairTable>());
  const uint32_t view = store.View("");
  std::vector<uint64_t> order(kSeries);
  for (uint64_t i = 0; i < kSeries; ++i) order[i] = i;
  std::mt19937_64 rng(1);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<const char*> blocks(kSeries);
  for (uint64_t i : order) blocks[i] = store.Acquire(view, i, BenchLabels(static_cast<int>(i)));
  WriteRequestEncoder enc;
  std::string compressed;
  Sample sample{1'763'700'000'000, 1};
  uint64_t next = 0;
  auto at = [&](uint64_t i, size_t d) { return blocks[(next + i + d) % kSeries]; };
  for (auto _ : state) {
    enc.Reset();
    for (uint64_t i = 0; i < kBatch; ++i) {
      if (ahead > 0) {
        PrefetchLabelBlock(at(i, ahead));
        store.PrefetchPairs(at(i, ahead / 2));
      }
      const char* b = at(i, 0);
      enc.AddSeries(store.pairs(), LabelBlockIds(b), LabelBlockEncodedSize(b), {&sample, 1});
    }
    SnappyCompress(enc.bytes(), &compressed);
    benchmark::DoNotOptimize(compressed.data());
    next = (next + kBatch) % kSeries;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  for (uint64_t i = 0; i < kSeries; ++i) store.Release(view, i, blocks[i]);
}
BENCHMARK(BM_EncodeCompressColdLabels)->Arg(0)->Arg(8)->Arg(16)->Arg(32);

// Appends `rounds` scrapes of `series` series and flushes them through `queue`.
void RunRounds(benchmark::State& state, MemoryWal& wal, QueueManager& queue, int series, int rounds,
               int64_t& t) {
  for (auto _ : state) {
    for (int r = 0; r < rounds; ++r) {
      std::vector<WalSample> samples(series);
      t += 15000;
      for (int i = 0; i < series; ++i) samples[i] = {static_cast<uint64_t>(i + 1), t, double(r)};
      wal.AppendSamples(std::move(samples));
    }
    Status st = queue.Flush(std::chrono::steady_clock::now() + 60s);
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * series * rounds);
}

void DefineBenchSeries(MemoryWal& wal, int series) {
  std::vector<WalSeries> defs;
  for (int i = 0; i < series; ++i) defs.push_back({static_cast<uint64_t>(i + 1), BenchLabels(i)});
  wal.AppendSeries(std::move(defs));
}

QueueOptions BenchQueue(const std::string& url, int shards) {
  QueueOptions o;
  o.endpoint.url = url;
  o.endpoint.name = "bench";
  o.endpoint.queue.min_shards = o.endpoint.queue.max_shards = shards;
  o.endpoint.queue.batch_send_deadline = 50ms;
  return o;
}

void BM_QueueToLoopbackSink(benchmark::State& state) {
  http::Server sink({});
  sink.HandleExact("/write", [](const http::Request&, http::ResponseWriter& w) {
    w.Send(http::Response::Text(204, ""));
  });
  if (!sink.Start().ok()) {
    state.SkipWithError("sink did not start");
    return;
  }
  constexpr int kSeries = 10000;
  MemoryWal wal(64);
  DefineBenchSeries(wal, kSeries);
  http::Client client;
  QueueOptions o = BenchQueue("http://127.0.0.1:" + std::to_string(sink.port()) + "/write",
                              static_cast<int>(state.range(0)));
  QueueManager queue(o, wal, std::make_unique<HttpTransport>(o.endpoint, client));
  if (!queue.Start().ok()) return state.SkipWithError("queue did not start");
  int64_t t = 1'763'700'000'000;
  RunRounds(state, wal, queue, kSeries, 10, t);
  queue.Stop();
  sink.Stop();
}
BENCHMARK(BM_QueueToLoopbackSink)
    ->Arg(1)
    ->Arg(2)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_VictoriaMetricsSustained(benchmark::State& state) {
  if (testing::FindOnPath("victoria-metrics").empty())
    return state.SkipWithError("victoria-metrics missing");
  auto dir = std::filesystem::temp_directory_path() / ("rw-bench-vm-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  int port = testing::FreePort();
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  http::Client client;
  {
    testing::ChildProcess vm(
        {"victoria-metrics", "-httpListenAddr=127.0.0.1:" + std::to_string(port),
         "-storageDataPath=" + (dir / "data").string(), "-retentionPeriod=10y"},
        (dir / "vm.log").string());
    if (!testing::WaitReady(client, base + "/health", 30s)) {
      state.SkipWithError("victoria-metrics did not start");
    } else {
      constexpr int kSeries = 20000;
      MemoryWal wal(64);
      DefineBenchSeries(wal, kSeries);
      QueueOptions o = BenchQueue(base + "/api/v1/write", static_cast<int>(state.range(0)));
      QueueManager queue(o, wal, std::make_unique<HttpTransport>(o.endpoint, client));
      if (queue.Start().ok()) {
        int64_t t = 1'763'700'000'000;
        RunRounds(state, wal, queue, kSeries, 10, t);
        QueueStats st = queue.Stats();
        state.counters["failed"] = static_cast<double>(st.samples_failed + st.samples_retried);
      }
      queue.Stop();
    }
  }
  std::filesystem::remove_all(dir);
}
// Note: process CPU here is ours only; victoria-metrics is a separate process.
BENCHMARK(BM_VictoriaMetricsSustained)
    ->Arg(2)
    ->Arg(4)
    ->Iterations(5)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace shardwise::remotewrite
