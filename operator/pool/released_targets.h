// ReleasedTargets: per shard, the targets that left its scrape set recently while they are
// still discovered — they moved to another shard. Each shard's plan lists them
// (ScrapePlan::released), so its scrapers stop them without staleness markers even when a
// long poll skipped the generation that marked them outgoing, or the move had no handoff at
// all (the shard was judged lost while its scraper still ran, e.g. a pod not yet Ready).
// Targets a live scraper reports running that its shard no longer scrapes are released too
// (NoteRunning).
// Only a target that left discovery disappears from every list, so its scrapers end its
// series with staleness markers, as Prometheus does.
//
// An entry goes when the target is back in the shard's scrape set, leaves discovery, or
// `keep` has passed since its release (a scraper behind by more than that is long past a
// handoff; the pool's handoff timeout is the natural value). Expiry moves in steps of a
// quarter of `keep`, so entries released by nearby reconciles leave the plan together (one
// new plan generation, not one per reconcile): an entry stays at most 1.25 × `keep`. The lists live
// in the operator's memory; after a restart the placement is rebuilt from the scrapers' reports and
// moves nothing, so nothing needs releasing.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

#include "operator/assign/assignment.h"

namespace shardwise::pool {

class ReleasedTargets {
 public:
  explicit ReleasedTargets(std::chrono::milliseconds keep) : keep_(keep) {}

  // Records what left each shard's scrape set from `previous` (null: nothing) to `current`
  // and forgets what no longer applies. `current` holds every discovered target.
  void Update(const assign::Assignment* previous, const assign::Assignment& current,
              assign::Time now);

  // A live scraper of `shard` reports running `ids` (its load report). Those that are
  // discovered but no longer in the shard's scrape set in `current` are released too (a
  // scraper lagging behind, or a placement rebuilt after an operator restart that disagrees
  // with it), and stay released while it reports them.
  void NoteRunning(uint32_t shard, const std::vector<uint64_t>& ids,
                   const assign::Assignment& current, assign::Time now);

  // The released targets of `shard`, sorted by id.
  std::vector<uint64_t> Of(uint32_t shard) const;

  void set_keep(std::chrono::milliseconds keep) { keep_ = keep; }
  size_t size() const;

 private:
  std::chrono::milliseconds keep_;
  std::map<uint32_t, std::map<uint64_t, assign::Time>> released_;  // shard → id → since
};

}  // namespace shardwise::pool
