// The informer's per-event cost: decoding watch lines and updating the indexed store.
#include <benchmark/benchmark.h>

#include "operator/kube/store.h"
#include "operator/kube/watch.h"

namespace shardwise::kube {
namespace {

Object PodObject(int i) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", "web-" + std::to_string(i)},
            {"namespace", "ns-" + std::to_string(i % 50)},
            {"resourceVersion", std::to_string(1000 + i)},
            {"uid", "0f9c0c4e-7d1e-4a53-9e67-" + std::to_string(100000000000 + i)},
            {"labels", {{"app", "web"}, {"pod-template-hash", "5d8f7c9b8"}, {"tier", "frontend"}}},
            {"ownerReferences",
             {{{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"name", "web-5d8f7c9b8"}}}}}},
          {"spec",
           {{"nodeName", "node-" + std::to_string(i % 1000)},
            {"containers",
             {{{"name", "app"},
               {"image", "registry.example.com/web:1.2.3"},
               {"ports", {{{"containerPort", 8080}, {"name", "metrics"}}}}}}}}},
          {"status", {{"phase", "Running"}, {"podIP", "10.0.0.1"}}}};
}

void BM_DecodeWatchLines(benchmark::State& state) {
  std::string chunk;
  constexpr int kEvents = 100;
  for (int i = 0; i < kEvents; ++i) {
    chunk += nlohmann::json{{"type", "MODIFIED"}, {"object", PodObject(i)}}.dump() + "\n";
  }
  for (auto _ : state) {
    WatchLineDecoder decoder;
    auto events = decoder.Feed(chunk);
    benchmark::DoNotOptimize(events);
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(chunk.size()));
}
BENCHMARK(BM_DecodeWatchLines);

void BM_StoreUpsert(benchmark::State& state) {
  const int objects = static_cast<int>(state.range(0));
  std::vector<ObjectPtr> pods;
  for (int i = 0; i < objects; ++i) pods.push_back(std::make_shared<const Object>(PodObject(i)));
  Store store;
  store.AddIndexer("node", [](const Object& pod) {
    return std::vector<std::string>{pod["spec"].value("nodeName", "")};
  });
  for (const auto& pod : pods) store.Upsert(pod);
  size_t i = 0;
  for (auto _ : state) {
    store.Upsert(pods[i++ % pods.size()]);  // an update: unindex the old, index the new
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreUpsert)->Arg(1000)->Arg(20000);

void BM_StoreByIndex(benchmark::State& state) {
  Store store;
  for (int i = 0; i < 20000; ++i) store.Upsert(std::make_shared<const Object>(PodObject(i)));
  int i = 0;
  for (auto _ : state) {
    auto pods = store.ByIndex(Store::kNamespaceIndex, "ns-" + std::to_string(i++ % 50));
    benchmark::DoNotOptimize(pods);
  }
}
BENCHMARK(BM_StoreByIndex);

}  // namespace
}  // namespace shardwise::kube
