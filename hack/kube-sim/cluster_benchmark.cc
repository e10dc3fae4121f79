// Costs of the simulator's hot paths: creating objects (metadata, defaults, managed
// fields, store write and watch fan-out), listing with a label selector, and merge patches.
#include <benchmark/benchmark.h>

#include "hack/kube-sim/cluster.h"

namespace shardwise::kubesim {
namespace {

json ConfigMap(int i) {
  return {
      {"metadata", {{"name", "cm-" + std::to_string(i)}, {"labels", {{"app", i % 2 ? "a" : "b"}}}}},
      {"data", {{"key", std::string(64, 'x')}}}};
}

void BM_CreateConfigMap(benchmark::State& state) {
  Cluster cluster;
  TypePtr t = cluster.FindType("", "v1", "configmaps");
  int i = 0;
  for (auto _ : state) {
    WriteContext ctx;
    auto r = cluster.Create(*t, "default", ConfigMap(i++), ctx);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_CreateConfigMap);

void BM_ListWithSelector(benchmark::State& state) {
  Cluster cluster;
  TypePtr t = cluster.FindType("", "v1", "configmaps");
  for (int i = 0; i < state.range(0); ++i) {
    WriteContext ctx;
    cluster.Create(*t, "default", ConfigMap(i), ctx);
  }
  ListOptions opts;
  opts.labels = Selector::ParseLabels("app=a").value();
  for (auto _ : state) {
    auto r = cluster.List(*t, "default", opts);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ListWithSelector)->Arg(100)->Arg(1000);

void BM_MergePatch(benchmark::State& state) {
  Cluster cluster;
  TypePtr t = cluster.FindType("", "v1", "configmaps");
  WriteContext ctx;
  cluster.Create(*t, "default", ConfigMap(0), ctx);
  int i = 0;
  for (auto _ : state) {
    WriteContext pctx;
    auto r = cluster.Patch(*t, "default", "cm-0", PatchType::kMerge,
                           {{"data", {{"counter", std::to_string(i++)}}}}, pctx);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_MergePatch);

}  // namespace
}  // namespace shardwise::kubesim
