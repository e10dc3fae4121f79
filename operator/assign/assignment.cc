#include "operator/assign/assignment.h"

#include <algorithm>

namespace shardwise::assign {

const TargetAssignment* Assignment::Find(uint64_t id) const {
  auto it = std::lower_bound(targets.begin(), targets.end(), id,
                             [](const TargetAssignment& t, uint64_t v) { return t.id < v; });
  return it != targets.end() && it->id == id ? &*it : nullptr;
}

const Handoff* Assignment::FindHandoff(uint64_t id) const {
  auto it = std::lower_bound(handoffs.begin(), handoffs.end(), id,
                             [](const Handoff& h, uint64_t v) { return h.target < v; });
  return it != handoffs.end() && it->target == id ? &*it : nullptr;
}

std::vector<uint64_t> Assignment::ScrapeSet(uint32_t shard) const {
  std::vector<uint64_t> ids;
  for (const auto& t : targets) {
    if (t.owner == shard) ids.push_back(t.id);
  }
  for (const auto& h : handoffs) {
    if (h.from == shard) ids.push_back(h.target);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::vector<uint64_t>> Assignment::ScrapeSets() const {
  std::vector<std::vector<uint64_t>> sets(shards.size());
  for (size_t s = 0; s < shards.size(); ++s) sets[s].reserve(owned[s] + handing_off[s]);
  for (const auto& t : targets) sets[t.owner].push_back(t.id);
  for (const auto& h : handoffs) sets[h.from].push_back(h.target);
  for (auto& set : sets) std::sort(set.begin(), set.end());
  return sets;
}

bool Assignment::Drained(uint32_t shard) const {
  if (shard >= shards.size()) return true;
  return shards[shard] == ShardState::kDraining && owned[shard] == 0 && handing_off[shard] == 0;
}

}  // namespace shardwise::assign
