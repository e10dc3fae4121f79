// RebuildAssignment: the placement the scrapers are running, read back from their load
// reports, for an operator that has no previous assignment in memory (it restarted, or a
// new leader took over). Fed to Assign as `previous`, it keeps every target where it is
// scraped and continues the handoffs in flight, so a restart moves no target.
//
// Each report lists the plan targets its scraper runs with their handoff marks: `none` or
// `incoming` names the owner, `outgoing` the shard handing the target off, and the cutover
// travels along. Reports are read oldest plan generation first, so a newer plan's claim
// wins over a stale one. Only `targets` (the currently discovered ids) and shards within
// `shards` are kept; homes are unknown (kNoShard), which Assign treats as "stay put".
#pragma once

#include <utility>
#include <vector>

#include "common/plan/plan.h"
#include "operator/assign/assignment.h"

namespace shardwise::pool {

struct ShardReport {
  uint32_t shard = 0;
  const plan::LoadReport* report = nullptr;
};

assign::Assignment RebuildAssignment(const std::vector<ShardReport>& reports,
                                     std::vector<assign::ShardState> shards,
                                     const std::vector<uint64_t>& targets, assign::Time now);

}  // namespace shardwise::pool
