// Assign: targets → scraper shards, load-aware, sticky, with minimal movement.
//
// Contract (each property is a test in assigner_test.cc / handoff_test.cc):
//  - Deterministic: the output depends only on the inputs, not on their order.
//  - Idempotent: feeding an output back as `previous` with nothing else changed moves
//    nothing (whenever every shard is within capacity — see stats.over_capacity).
//  - Bounded load: every active shard carries at most (1 + epsilon) × the mean load by
//    weight. A target too heavy for any shard's slack displaces lighter targets from the
//    emptiest shard; only if those fit nowhere either is a shard left over capacity
//    (counted in stats.over_capacity).
//  - Minimal movement: growing N→N+1 moves at most one mean load (the ideal 1/(N+1) of the
//    total) onto the new shard; shrinking moves the removed shard's targets; a weight change
//    moves only the lightest targets of a shard pushed over capacity. Extra moves happen only
//    when a shard ends up over capacity (it sheds) or a heavy target displaces light ones.
//  - A lost shard's targets spread over the active shards with room and return to it (up to
//    the mean load) when it is active again.
//  - Scale-down drains the highest ordinals (ScaleTo); removing a drained shard moves nothing.
//  - Make-before-break: a target moving away from a shard that is not lost gets a Handoff.
// The algorithm, its cost and why it keeps these promises: docs/assignment.md.
#pragma once

#include <chrono>
#include <span>
#include <vector>

#include "common/status.h"
#include "operator/assign/assignment.h"

namespace shardwise::assign {

struct AssignOptions {
  // Load bound: a shard takes a target only while its load stays within (1 + epsilon) × mean.
  double epsilon = 0.10;
  // How long an old owner keeps scraping a moved target without the new owner's confirmation.
  std::chrono::milliseconds handoff_timeout = std::chrono::minutes(2);
  // How far ahead of the new owner's first confirmed scrape the cutover is put: long enough
  // for both scrapers to receive their new plans (a long poll answers within milliseconds).
  std::chrono::milliseconds cutover_delay = std::chrono::seconds(3);
  // Weight of an unmeasured target when nothing at all has been measured yet.
  double default_series = 100;
  // Hashed choices per target (its preference list) before a linear scan.
  uint32_t probes = 8;
};

struct AssignInput {
  std::span<const TargetInput> targets;
  std::vector<ShardState> shards;                     // index = shard ordinal; at least one kActive
  const Assignment* previous = nullptr;               // null on the first run
  std::span<const ScrapeConfirmation> confirmations;  // reported since the previous run
  Time now;
  AssignOptions options;
};

// A pure function of its input (thread-safe). InvalidArgument on duplicate target ids or bad
// options; FailedPrecondition when no shard is active.
Result<Assignment> Assign(const AssignInput& input);

// The shard states for running `desired` active shards: ordinals >= desired drain (highest
// first is what the StatefulSet removes), ordinals below come back from draining, new
// ordinals are added as active. Lost shards below `desired` stay lost.
std::vector<ShardState> ScaleTo(std::vector<ShardState> shards, uint32_t desired);

// Shards the StatefulSet may drop now: the longest run of drained shards at the top.
uint32_t RemovableTail(const Assignment& assignment);

}  // namespace shardwise::assign
