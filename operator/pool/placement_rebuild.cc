#include "operator/pool/placement_rebuild.h"

#include <algorithm>
#include <map>

namespace shardwise::pool {

assign::Assignment RebuildAssignment(const std::vector<ShardReport>& reports,
                                     std::vector<assign::ShardState> shards,
                                     const std::vector<uint64_t>& targets, assign::Time now) {
  struct Seen {
    uint32_t owner = assign::kNoShard;
    uint32_t from = assign::kNoShard;
    int64_t cutover_ms = 0;
    double series = 0;
  };
  std::vector<uint64_t> known = targets;
  std::sort(known.begin(), known.end());
  std::vector<ShardReport> ordered = reports;
  std::stable_sort(ordered.begin(), ordered.end(), [](const ShardReport& a, const ShardReport& b) {
    return a.report->plan_generation < b.report->plan_generation;
  });
  std::map<uint64_t, Seen> seen;
  for (const auto& r : ordered) {
    if (r.shard >= shards.size()) continue;
    for (const auto& t : r.report->per_target) {
      if (!std::binary_search(known.begin(), known.end(), t.id)) continue;
      Seen& s = seen[t.id];
      s.series = std::max(s.series, t.series);
      if (t.handoff == plan::Handoff::kOutgoing) {
        s.from = r.shard;
      } else {
        s.owner = r.shard;
      }
      if (t.cutover_unix_ms > 0) s.cutover_ms = t.cutover_unix_ms;
    }
  }

  assign::Assignment out;
  out.shards = std::move(shards);
  out.load.assign(out.shards.size(), 0);
  out.owned.assign(out.shards.size(), 0);
  out.handing_off.assign(out.shards.size(), 0);
  for (const auto& [id, s] : seen) {
    // Only the shard handing it off reported it: that one is scraping it, so it owns it
    // until the assigner says otherwise.
    const uint32_t owner = s.owner != assign::kNoShard ? s.owner : s.from;
    const double weight = std::max(1.0, s.series);
    out.targets.push_back({id, weight, owner, assign::kNoShard});
    out.load[owner] += weight;
    ++out.owned[owner];
    if (s.owner != assign::kNoShard && s.from != assign::kNoShard && s.owner != s.from) {
      assign::Handoff h{id, s.from, s.owner, now};
      if (s.cutover_ms > 0) h.cutover = assign::Time(std::chrono::milliseconds(s.cutover_ms));
      out.handoffs.push_back(h);
      ++out.handing_off[s.from];
    }
  }
  return out;
}

}  // namespace shardwise::pool
