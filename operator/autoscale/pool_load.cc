#include "operator/autoscale/pool_load.h"

#include <algorithm>
#include <unordered_map>

namespace shardwise::autoscale {

PoolLoad MeasurePool(const std::map<endpoint::ShardKey, endpoint::ReportStore::Entry>& reports,
                     const std::string& ns, const std::string& pool, Clock::time_point now,
                     std::chrono::milliseconds fresh) {
  PoolLoad out;
  std::map<int, const endpoint::ReportStore::Entry*> per_shard;  // freshest replica
  for (const auto& [key, entry] : reports) {
    if (key.ns != ns || key.pool != pool) continue;
    if (now - entry.received > fresh) continue;
    out.pods.push_back({endpoint::PodName(pool, key.shard, key.replica), entry.report.active_series,
                        entry.report.samples_per_second});
    auto& slot = per_shard[key.shard];
    if (slot == nullptr || entry.received > slot->received) slot = &entry;
  }
  std::unordered_map<uint64_t, double> per_target;
  double summed_series = 0, summed_sps = 0;
  for (const auto& [index, entry] : per_shard) {
    const plan::LoadReport& r = entry->report;
    ShardLoad s;
    s.index = index;
    s.series = r.active_series;
    s.samples_per_second = r.samples_per_second;
    s.saturation = r.saturation;
    s.skipped_ticks = r.skipped_ticks;
    s.remote_write_lag_seconds = r.remote_write_lag_seconds;
    s.memory_bytes = r.memory_bytes;
    s.memory_limit_bytes = r.memory_limit_bytes;
    double targets_series = 0;
    for (const auto& t : r.per_target) {
      s.largest_target_series = std::max(s.largest_target_series, t.series);
      double& v = per_target[t.id];
      v = std::max(v, t.series);
      targets_series += t.series;
    }
    // A report without per-target detail still counts by its total.
    if (r.per_target.empty())
      per_target[~uint64_t{0} - static_cast<uint64_t>(index)] = r.active_series;
    summed_series += r.per_target.empty() ? r.active_series : targets_series;
    summed_sps += r.samples_per_second;
    out.shards.push_back(s);
  }
  for (const auto& [id, series] : per_target) out.series += series;
  out.samples_per_second =
      summed_series > 0 ? summed_sps * (out.series / summed_series) : summed_sps;
  return out;
}

}  // namespace shardwise::autoscale
