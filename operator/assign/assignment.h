// The assigner's vocabulary: what goes in (targets with weights, shard states, the previous
// assignment, scrape confirmations, the time) and what comes out (an owner per target,
// make-before-break handoffs, per-shard loads). Plain data; the algorithm is in assigner.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <vector>

namespace shardwise::assign {

using Time = std::chrono::system_clock::time_point;
inline constexpr uint32_t kNoShard = std::numeric_limits<uint32_t>::max();

// Shard i is pod ordinal i of the pool's StatefulSet.
//   kActive   — takes targets.
//   kDraining — being scaled away: takes no targets, keeps scraping what it hands off until
//               the new owners confirm. Scale-down drains the highest ordinals first.
//   kLost     — no heartbeat: its targets are spread over the active shards at once (nobody is
//               left to hand off from) and come back to it when it is active again.
// Placement hashes over ordinals 0..(highest active); draining or lost ordinals above that
// are outside the hash space, exactly as after the StatefulSet shrinks.
enum class ShardState : uint8_t { kActive, kDraining, kLost };

struct TargetInput {
  uint64_t id = 0;   // TargetId(job, address, path, params)
  uint64_t job = 0;  // JobKey(job)
  // Series per scrape as last reported by the scraper owning the target; negative when the
  // target has not been scraped yet (its weight is then estimated, see weights.h).
  double measured_series = -1;
};

// A scraper reported a successful scrape of `target` at `at` (its load report is the proof).
struct ScrapeConfirmation {
  uint64_t target = 0;
  uint32_t shard = kNoShard;
  Time at;
};

struct TargetAssignment {
  uint64_t id = 0;
  double weight = 0;  // the weight the decision used
  uint32_t owner = kNoShard;
  // The target's first choice among the active shards when this was computed. The next run
  // compares it with the current first choice to notice shards that joined or came back.
  // kNoShard when unknown (e.g. rebuilt from scraper reports after an operator restart).
  uint32_t home = kNoShard;
};

// Make-before-break without duplicates: both shards scrape the target; `from` forwards its
// samples and `to` — the owner — forwards none. Once `to` reports a successful scrape at or
// after `since`, a `cutover` instant a little ahead is chosen: `from` forwards the scrapes
// before it, `to` those from it on. The handoff completes when `to` reports a scrape at or
// after the cutover (it is forwarding), when the handoff timeout passes, or when `from` is
// lost; `from` then lets go without staleness markers.
struct Handoff {
  uint64_t target = 0;
  uint32_t from = kNoShard;
  uint32_t to = kNoShard;
  Time since;
  Time cutover{};  // epoch: not chosen yet
  bool operator==(const Handoff&) const = default;
};

struct AssignStats {
  double mean_load = 0;  // total weight / active shards
  double capacity = 0;   // (1 + epsilon) * mean_load
  uint64_t new_targets = 0;
  uint64_t moved_targets = 0;
  double moved_weight = 0;
  // Targets placed above capacity because nothing fit (a target heavier than the slack).
  uint64_t over_capacity = 0;
  uint64_t handoffs_started = 0;
  uint64_t handoffs_completed = 0;
  uint64_t handoffs_timed_out = 0;
  uint64_t handoffs_abandoned = 0;  // the old owner was lost before the new one confirmed
  // Moved targets no handoff covers: off a lost shard (its new owner forwards from its first
  // scrape). Nonzero only when a shard is judged lost.
  uint64_t moved_without_handoff = 0;
};

struct Assignment {
  std::vector<ShardState> shards;
  std::vector<TargetAssignment> targets;  // sorted by id, unique
  std::vector<Handoff> handoffs;          // sorted by target, at most one per target
  std::vector<double> load;               // per shard: weight owned
  std::vector<uint64_t> owned;            // per shard: targets owned
  std::vector<uint64_t> handing_off;      // per shard: targets it still scrapes for a handoff
  AssignStats stats;

  const TargetAssignment* Find(uint64_t id) const;
  const Handoff* FindHandoff(uint64_t id) const;
  // Targets `shard` must scrape now: the ones it owns plus the ones it is handing off.
  std::vector<uint64_t> ScrapeSet(uint32_t shard) const;
  // ScrapeSet of every shard in one pass (index = shard), sorted ids.
  std::vector<std::vector<uint64_t>> ScrapeSets() const;
  // A draining shard that owns nothing and hands nothing off: safe to remove.
  bool Drained(uint32_t shard) const;
};

}  // namespace shardwise::assign
