// Make-before-break handoff bookkeeping, used by Assign once owners are decided.
//
// A target whose owner changes away from a shard that is not lost gets a Handoff: the old
// owner keeps scraping (and forwarding) it; the new owner scrapes it without forwarding. The
// new owner's first confirmed scrape sets the cutover (now + cutover_delay); its confirmed
// scrape at or after the cutover completes the handoff, as do the timeout and the old
// owner's loss. If the target moves again meanwhile, the handoff keeps the shard really
// scraping it.
#pragma once

#include <chrono>
#include <span>
#include <vector>

#include "operator/assign/assignment.h"

namespace shardwise::assign {

// Scrape confirmations indexed by (target, shard).
class Confirmations {
 public:
  explicit Confirmations(std::span<const ScrapeConfirmation> all);
  // Did `shard` scrape `target` successfully at or after `since`?
  bool Confirmed(uint64_t target, uint32_t shard, Time since) const;

 private:
  std::vector<ScrapeConfirmation> sorted_;
};

struct HandoffContext {
  const std::vector<ShardState>& shards;
  const Confirmations& confirmations;
  Time now;
  std::chrono::milliseconds timeout;
  std::chrono::milliseconds cutover_delay{0};
};

// Carries `prev` (the target's handoff in the previous assignment, or null) forward, or
// starts a new handoff, for target `id` now owned by `owner` and previously by `prev_owner`
// (kNoShard for a new target). Appends to out->handoffs and counts in out->stats.
void UpdateHandoff(const HandoffContext& context, uint64_t id, uint32_t prev_owner, uint32_t owner,
                   const Handoff* prev, Assignment* out);

}  // namespace shardwise::assign
