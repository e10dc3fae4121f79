// BuildPlans: from discovered targets and an assignment to one ScrapePlan per shard (the
// same plan for every replica of a shard, but for its replica number). Targets carry their
// final labels, every scrape parameter, the monitor's metric relabelings, TLS material and
// credentials read from the monitor namespace's Secrets/ConfigMaps, and the handoff mark:
// outgoing on the old owner, incoming on the new owner of a target being handed over. Each
// plan also lists the targets `released` from its shard recently (released_targets.h).
#pragma once

#include <vector>

#include "common/plan/plan.h"
#include "operator/assign/assignment.h"
#include "operator/discovery/cluster_view.h"
#include "operator/discovery/target.h"
#include "operator/pool/pool_spec.h"
#include "operator/pool/released_targets.h"

namespace shardwise::pool {

// Returns plans indexed [shard][replica] for shards 0..assignment.shards.size()-1.
// A target whose Secret material cannot be read is left out and reported in `errors`.
std::vector<std::vector<plan::ScrapePlan>> BuildPlans(
    const PoolSpec& pool, const std::vector<opdiscovery::Target>& targets,
    const assign::Assignment& assignment, const opdiscovery::ClusterView& view,
    std::vector<std::string>* errors, const ReleasedTargets* released = nullptr);

}  // namespace shardwise::pool
