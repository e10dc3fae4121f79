// assign_bench: speed and memory of Assign at 1M targets × 100 shards, and movement and
// balance side by side with the Prometheus Operator's hashmod and the OpenTelemetry Target
// Allocator's consistent-hashing ring, on the same Pareto-weighted targets.
// Results and the command line: docs/benchmarks-assign.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <string>

#include "operator/assign/assign_testing.h"
#include "operator/assign/assigner.h"
#include "operator/assign/baselines.h"

namespace shardwise::assign {
namespace {

using testing::ActiveShards;
using testing::Inputs;
using testing::MakeTargets;
using testing::SyntheticTarget;

constexpr double kAlpha = 1.2;   // heavy tail: the top 5% of targets hold ~40% of series
constexpr int64_t kCap = 20000;  // no single target above 20k series

// Reads a "VmXXX:   123 kB" line of /proc/self/status, in bytes.
double ProcStatus(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1)) * 1024;
  }
  return 0;
}
// Resets VmHWM (peak RSS) to the current RSS.
void ResetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

// Benchmarks take (targets, shards, cap on series per target); a cap of 0 lifts it.
const std::vector<SyntheticTarget>& Targets(const benchmark::State& state) {
  static std::map<std::pair<int64_t, double>, std::vector<SyntheticTarget>> cache;
  const int64_t n = state.range(0);
  const auto cap = static_cast<double>(state.range(2));
  auto it = cache.find({n, cap});
  if (it == cache.end()) {
    it =
        cache
            .emplace(std::make_pair(n, cap), MakeTargets(static_cast<size_t>(n), 2026, kAlpha, cap))
            .first;
  }
  return it->second;
}

Assignment RunAssign(const std::vector<TargetInput>& targets, std::vector<ShardState> shards,
                     const Assignment* previous) {
  AssignInput in;
  in.targets = targets;
  in.shards = std::move(shards);
  in.previous = previous;
  return std::move(Assign(in)).value();
}

// 1M targets over 100 shards from nothing: the operator's first reconcile.
void BM_AssignFresh(benchmark::State& state) {
  const auto targets = Inputs(Targets(state));
  const auto shards = static_cast<uint32_t>(state.range(1));
  double rss_growth = 0;
  double peak_growth = 0;
  for (auto _ : state) {
    ResetPeakRss();
    const double rss_before = ProcStatus("VmRSS");
    Assignment a = RunAssign(targets, ActiveShards(shards), nullptr);
    rss_growth = ProcStatus("VmRSS") - rss_before;
    peak_growth = ProcStatus("VmHWM") - rss_before;
    benchmark::DoNotOptimize(a);
  }
  state.counters["rss_growth_MB"] = rss_growth / 1e6;
  state.counters["peak_rss_growth_MB"] = peak_growth / 1e6;
  state.counters["targets_per_s"] =
      benchmark::Counter(static_cast<double>(targets.size()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AssignFresh)->Args({1000000, 100, kCap})->Unit(benchmark::kMillisecond);

// The steady state: the same 1M targets again with the previous assignment (every reconcile).
void BM_AssignSteady(benchmark::State& state) {
  const auto targets = Inputs(Targets(state));
  const auto shards = static_cast<uint32_t>(state.range(1));
  const Assignment previous = RunAssign(targets, ActiveShards(shards), nullptr);
  for (auto _ : state) {
    Assignment a = RunAssign(targets, ActiveShards(shards), &previous);
    benchmark::DoNotOptimize(a);
  }
  state.counters["targets_per_s"] =
      benchmark::Counter(static_cast<double>(targets.size()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AssignSteady)->Args({1000000, 100, kCap})->Unit(benchmark::kMillisecond);

// Owner per target for `shards` shards under one strategy.
using Placement =
    std::function<std::vector<uint32_t>(const std::vector<SyntheticTarget>&, uint32_t shards)>;

struct Figures {
  double grow_vs_ideal;        // moved weight on N→N+1 over the ideal total/(N+1)
  double shrink_vs_ideal;      // moved weight on N→N−1 over the removed shard's weight
  double max_over_mean;        // by series, at N shards
  double max_over_mean_count;  // by target count, at N shards
  double floor;  // the best any placement can do: max(1, heaviest target / mean shard load)
};

Figures Measure(const std::vector<SyntheticTarget>& targets, uint32_t n,
                const std::vector<uint32_t>& at_n, const std::vector<uint32_t>& grown,
                const std::vector<uint32_t>& shrunk) {
  std::vector<double> load(n, 0);
  std::vector<double> count(n, 0);
  double total = 0;
  double moved_grow = 0;
  double moved_shrink = 0;
  double heaviest = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    const double w = targets[i].input.measured_series;
    total += w;
    heaviest = std::max(heaviest, w);
    load[at_n[i]] += w;
    count[at_n[i]] += 1;
    if (grown[i] != at_n[i]) moved_grow += w;
    if (shrunk[i] != at_n[i]) moved_shrink += w;
  }
  return {moved_grow / (total / (n + 1)), moved_shrink / load[n - 1], testing::MaxOverMean(load),
          testing::MaxOverMean(count), std::max(1.0, heaviest / (total / n))};
}

void Report(benchmark::State& state, const Figures& f) {
  state.counters["grow_vs_ideal"] = f.grow_vs_ideal;
  state.counters["shrink_vs_ideal"] = f.shrink_vs_ideal;
  state.counters["max_over_mean"] = f.max_over_mean;
  state.counters["max_over_mean_count"] = f.max_over_mean_count;
  state.counters["max_over_mean_floor"] = f.floor;
}

void Compare(benchmark::State& state, const Placement& place) {
  const auto& targets = Targets(state);
  const auto n = static_cast<uint32_t>(state.range(1));
  Figures f{};
  for (auto _ : state) {
    const auto at_n = place(targets, n);
    f = Measure(targets, n, at_n, place(targets, n + 1), place(targets, n - 1));
  }
  Report(state, f);
}

std::vector<uint32_t> Owners(const std::vector<SyntheticTarget>& targets, const Assignment& a) {
  std::vector<uint32_t> owners;
  owners.reserve(targets.size());
  for (const auto& t : targets) owners.push_back(a.Find(t.input.id)->owner);
  return owners;
}

// Ours is sticky, so N±1 starts from the assignment at N, as the operator would.
void BM_CompareShardwise(benchmark::State& state) {
  const auto& targets = Targets(state);
  const auto inputs = Inputs(targets);
  const auto n = static_cast<uint32_t>(state.range(1));
  Figures f{};
  uint64_t over_capacity = 0;
  for (auto _ : state) {
    const Assignment at_n = RunAssign(inputs, ActiveShards(n), nullptr);
    const Assignment grown = RunAssign(inputs, ActiveShards(n + 1), &at_n);
    const Assignment shrunk = RunAssign(inputs, ActiveShards(n - 1), &at_n);
    over_capacity =
        at_n.stats.over_capacity + grown.stats.over_capacity + shrunk.stats.over_capacity;
    f = Measure(targets, n, Owners(targets, at_n), Owners(targets, grown), Owners(targets, shrunk));
  }
  Report(state, f);
  state.counters["over_capacity"] = static_cast<double>(over_capacity);
}

void BM_CompareHashmod(benchmark::State& state) {
  Compare(state, [](const std::vector<SyntheticTarget>& targets, uint32_t shards) {
    std::vector<uint32_t> owners;
    owners.reserve(targets.size());
    for (const auto& t : targets) {
      owners.push_back(static_cast<uint32_t>(PrometheusHashmod(t.address, shards)));
    }
    return owners;
  });
}

void BM_CompareOtelRing(benchmark::State& state) {
  Compare(state, [](const std::vector<SyntheticTarget>& targets, uint32_t shards) {
    std::vector<std::string> members;
    for (uint32_t s = 0; s < shards; ++s) members.push_back("collector-" + std::to_string(s));
    const PartitionRing ring(members);
    std::vector<uint32_t> owners;
    owners.reserve(targets.size());
    for (const auto& t : targets) owners.push_back(ring.Locate("http://" + t.address + "/metrics"));
    return owners;
  });
}

// The last row lifts the cap: single targets of up to ~10^6 series.
#define SHARDWISE_COMPARE(fn)      \
  BENCHMARK(fn)                    \
      ->Args({1000000, 100, kCap}) \
      ->Args({100000, 10, kCap})   \
      ->Args({1000000, 100, 0})    \
      ->Iterations(1)              \
      ->Unit(benchmark::kMillisecond)
SHARDWISE_COMPARE(BM_CompareShardwise);
SHARDWISE_COMPARE(BM_CompareHashmod);
SHARDWISE_COMPARE(BM_CompareOtelRing);

}  // namespace
}  // namespace shardwise::assign
