// Target weights: the load a target puts on the shard that scrapes it, in series per scrape.
//
// A measured target weighs what its scraper last reported (at least kMinWeight, since even an
// empty scrape costs a connection and a parse). An unmeasured target borrows the mean of the
// measured targets of its job, else the mean of all measured targets, else `default_series`.
// Pass targets sorted by id for a result independent of input order (the assigner does).
#pragma once

#include <span>
#include <vector>

#include "operator/assign/assignment.h"

namespace shardwise::assign {

inline constexpr double kMinWeight = 1.0;

// One weight per target, in the order given.
std::vector<double> EstimateWeights(std::span<const TargetInput> targets, double default_series);

}  // namespace shardwise::assign
