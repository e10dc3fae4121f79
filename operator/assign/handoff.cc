#include "operator/assign/handoff.h"

#include <algorithm>
#include <iterator>
#include <tuple>
#include <utility>

namespace shardwise::assign {

Confirmations::Confirmations(std::span<const ScrapeConfirmation> all)
    : sorted_(all.begin(), all.end()) {
  std::sort(sorted_.begin(), sorted_.end(), [](const auto& a, const auto& b) {
    return std::tie(a.target, a.shard, a.at) < std::tie(b.target, b.shard, b.at);
  });
}

bool Confirmations::Confirmed(uint64_t target, uint32_t shard, Time since) const {
  // The last entry for (target, shard) is its latest scrape.
  auto it = std::upper_bound(sorted_.begin(), sorted_.end(), std::make_pair(target, shard),
                             [](const auto& key, const ScrapeConfirmation& c) {
                               return key < std::make_pair(c.target, c.shard);
                             });
  if (it == sorted_.begin()) return false;
  --it;
  return it->target == target && it->shard == shard && it->at >= since;
}

void UpdateHandoff(const HandoffContext& context, uint64_t id, uint32_t prev_owner, uint32_t owner,
                   const Handoff* prev, Assignment* out) {
  const auto alive = [&](uint32_t s) {
    return s < context.shards.size() && context.shards[s] != ShardState::kLost;
  };
  bool pending = false;
  const bool cutover_chosen = prev != nullptr && prev->cutover != Time{};
  if (prev != nullptr) {
    if (cutover_chosen && context.confirmations.Confirmed(id, prev->to, prev->cutover)) {
      ++out->stats.handoffs_completed;
    } else if (!alive(prev->from)) {
      ++out->stats.handoffs_abandoned;
    } else if (context.now - prev->since >= context.timeout) {
      ++out->stats.handoffs_timed_out;
    } else {
      pending = true;
    }
  }
  if (owner == prev_owner) {
    if (!pending) return;
    Handoff h = *prev;
    if (!cutover_chosen && context.confirmations.Confirmed(id, h.to, h.since)) {
      h.cutover = context.now + context.cutover_delay;
    }
    out->handoffs.push_back(h);
    return;
  }
  // The shard really scraping the target is the old owner or, while an earlier handoff is
  // unconfirmed, that handoff's source.
  const uint32_t source = pending ? prev->from : prev_owner;
  if (source == owner || !alive(source)) return;
  out->handoffs.push_back(Handoff{id, source, owner, context.now});
  ++out->stats.handoffs_started;
}

}  // namespace shardwise::assign
