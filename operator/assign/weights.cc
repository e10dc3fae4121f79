#include "operator/assign/weights.h"

#include <algorithm>
#include <unordered_map>

namespace shardwise::assign {
namespace {

struct Mean {
  double sum = 0;
  uint64_t count = 0;
  double value() const { return sum / static_cast<double>(count); }
};

double Measured(const TargetInput& t) { return std::max(t.measured_series, kMinWeight); }

}  // namespace

std::vector<double> EstimateWeights(std::span<const TargetInput> targets, double default_series) {
  std::unordered_map<uint64_t, Mean> by_job;
  Mean all;
  for (const auto& t : targets) {
    if (t.measured_series < 0) continue;
    Mean& job = by_job[t.job];
    job.sum += Measured(t);
    ++job.count;
    all.sum += Measured(t);
    ++all.count;
  }
  const double fallback = all.count > 0 ? all.value() : std::max(default_series, kMinWeight);
  std::vector<double> weights;
  weights.reserve(targets.size());
  for (const auto& t : targets) {
    if (t.measured_series >= 0) {
      weights.push_back(Measured(t));
      continue;
    }
    auto it = by_job.find(t.job);
    weights.push_back(it != by_job.end() ? it->second.value() : fallback);
  }
  return weights;
}

}  // namespace shardwise::assign
