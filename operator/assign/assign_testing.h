// Generators and measures shared by the assigner's tests and benchmark (not part of the
// library): synthetic targets with Pareto-distributed series, and movement/balance figures.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "operator/assign/assignment.h"
#include "operator/assign/target_id.h"

namespace shardwise::assign::testing {

struct SyntheticTarget {
  std::string address;  // what hashmod and the ring baseline hash
  TargetInput input;
};

// `n` targets over `jobs` jobs; series per target Pareto(x_min = 10, alpha), capped at
// `cap` (0 = uncapped). alpha 1.2 puts ~40% of all series in the top 5% of targets.
inline std::vector<SyntheticTarget> MakeTargets(size_t n, uint64_t seed, double alpha = 1.2,
                                                double cap = 0, uint32_t jobs = 20) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<SyntheticTarget> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string job = "job-" + std::to_string(rng() % jobs);
    std::string address = "10." + std::to_string((i >> 16) & 255) + "." +
                          std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255) + ":" +
                          std::to_string(9100 + (seed % 100));
    double series = std::floor(10.0 / std::pow(1.0 - uniform(rng), 1.0 / alpha));
    if (cap > 0) series = std::min(series, cap);
    SyntheticTarget t;
    t.input.id = TargetId(job, address, "/metrics");
    t.input.job = JobKey(job);
    t.input.measured_series = series;
    t.address = std::move(address);
    out.push_back(std::move(t));
  }
  return out;
}

inline std::vector<TargetInput> Inputs(const std::vector<SyntheticTarget>& targets) {
  std::vector<TargetInput> in;
  in.reserve(targets.size());
  for (const auto& t : targets) in.push_back(t.input);
  return in;
}

inline std::vector<ShardState> ActiveShards(uint32_t n) {
  return std::vector<ShardState>(n, ShardState::kActive);
}

inline double TotalWeight(const Assignment& a) {
  double total = 0;
  for (const auto& t : a.targets) total += t.weight;
  return total;
}

// Weight whose owner differs between `before` and `after` (targets present in both).
inline double MovedWeight(const Assignment& before, const Assignment& after) {
  double moved = 0;
  for (const auto& t : after.targets) {
    const TargetAssignment* b = before.Find(t.id);
    if (b != nullptr && b->owner != t.owner) moved += t.weight;
  }
  return moved;
}

// Max shard load over the mean, over active shards.
inline double MaxOverMean(const Assignment& a) {
  double max = 0;
  double total = 0;
  int active = 0;
  for (size_t s = 0; s < a.shards.size(); ++s) {
    if (a.shards[s] != ShardState::kActive) continue;
    ++active;
    total += a.load[s];
    max = std::max(max, a.load[s]);
  }
  return active == 0 || total == 0 ? 0 : max / (total / active);
}

// Max over mean for plain per-shard loads.
inline double MaxOverMean(const std::vector<double>& load) {
  double total = 0;
  double max = 0;
  for (double l : load) {
    total += l;
    max = std::max(max, l);
  }
  return total == 0 ? 0 : max / (total / static_cast<double>(load.size()));
}

}  // namespace shardwise::assign::testing
