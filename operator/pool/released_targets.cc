#include "operator/pool/released_targets.h"

#include <algorithm>

namespace shardwise::pool {

namespace {

// Whether `shard` scrapes target `id` in `a`: it owns it or hands it off.
bool Scrapes(const assign::Assignment& a, uint64_t id, uint32_t shard) {
  const assign::TargetAssignment* t = a.Find(id);
  if (t == nullptr) return false;
  if (t->owner == shard) return true;
  const assign::Handoff* h = a.FindHandoff(id);
  return h != nullptr && h->from == shard;
}

}  // namespace

void ReleasedTargets::Update(const assign::Assignment* previous, const assign::Assignment& current,
                             assign::Time now) {
  // Forget first: shards that are gone, targets back on the shard or out of discovery,
  // and releases older than `keep`. Expiry moves in steps of keep/4 so that releases of
  // nearby reconciles go in one plan change, not one new plan generation each: an entry
  // stays between `keep` and 1.25 × `keep`.
  const auto step = std::max<assign::Time::duration>(keep_ / 4, std::chrono::milliseconds(1));
  const assign::Time horizon = now - keep_;
  const assign::Time cutoff{horizon.time_since_epoch() - horizon.time_since_epoch() % step};
  for (auto s = released_.begin(); s != released_.end();) {
    if (s->first >= current.shards.size()) {
      s = released_.erase(s);
      continue;
    }
    for (auto e = s->second.begin(); e != s->second.end();) {
      const bool expired = e->second < cutoff;
      if (expired || current.Find(e->first) == nullptr || Scrapes(current, e->first, s->first)) {
        e = s->second.erase(e);
      } else {
        ++e;
      }
    }
    s = s->second.empty() ? released_.erase(s) : std::next(s);
  }
  if (previous == nullptr) return;

  // Both target lists are sorted by id: walk them together. A target in both whose previous
  // scrapers (owner, handoff source) lost one is released from that shard.
  auto cur = current.targets.begin();
  for (const auto& p : previous->targets) {
    while (cur != current.targets.end() && cur->id < p.id) ++cur;
    if (cur == current.targets.end()) break;
    if (cur->id != p.id) continue;  // left discovery: no release, markers
    uint32_t was[2] = {p.owner, assign::kNoShard};
    if (const assign::Handoff* h = previous->FindHandoff(p.id)) was[1] = h->from;
    for (uint32_t shard : was) {
      if (shard == assign::kNoShard || shard >= current.shards.size()) continue;
      if (!Scrapes(current, p.id, shard)) released_[shard][p.id] = now;
    }
  }
}

void ReleasedTargets::NoteRunning(uint32_t shard, const std::vector<uint64_t>& ids,
                                  const assign::Assignment& current, assign::Time now) {
  if (shard >= current.shards.size()) return;
  for (uint64_t id : ids) {
    if (current.Find(id) != nullptr && !Scrapes(current, id, shard)) released_[shard][id] = now;
  }
}

std::vector<uint64_t> ReleasedTargets::Of(uint32_t shard) const {
  std::vector<uint64_t> out;
  auto it = released_.find(shard);
  if (it == released_.end()) return out;
  out.reserve(it->second.size());
  for (const auto& [id, since] : it->second) out.push_back(id);
  return out;
}

size_t ReleasedTargets::size() const {
  size_t n = 0;
  for (const auto& [shard, ids] : released_) n += ids.size();
  return n;
}

}  // namespace shardwise::pool
