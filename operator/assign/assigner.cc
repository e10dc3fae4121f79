#include "operator/assign/assigner.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "operator/assign/handoff.h"
#include "operator/assign/hashing.h"
#include "operator/assign/weights.h"

namespace shardwise::assign {
namespace {

// A target's preference order over shards: the jump hashes of its probe keys into the hash
// space, skipping shards that are not active. The hash space is every ordinal up to the
// highest active one, so draining (or losing) the top ordinals gives exactly the placement
// the smaller StatefulSet will have, and a lost shard in the middle keeps its slot to come
// back to.
class Placer {
 public:
  Placer(const std::vector<ShardState>& shards, uint32_t probes, double mean, double capacity)
      : shards_(shards), probes_(probes), mean_(mean), capacity_(capacity), load_(shards.size()) {
    for (uint32_t i = 0; i < shards.size(); ++i) {
      if (shards[i] == ShardState::kActive) space_ = i + 1;
    }
  }

  bool Active(uint32_t s) const { return s < shards_.size() && shards_[s] == ShardState::kActive; }
  uint32_t Probe(uint64_t id, uint32_t k) const { return JumpHash(ProbeKey(id, k), space_); }

  // First active shard in the preference order.
  uint32_t Home(uint64_t id) const {
    for (uint32_t k = 0; k < probes_; ++k) {
      uint32_t s = Probe(id, k);
      if (Active(s)) return s;
    }
    return ScanFrom(Probe(id, 0), [](uint32_t) { return true; });
  }

  bool FitsMean(uint32_t s, double w) const { return load_[s] + w <= mean_; }
  // A shard always takes at least one target, so one giant target still has a home.
  bool FitsCapacity(uint32_t s, double w) const {
    return load_[s] + w <= capacity_ || load_[s] == 0;
  }
  bool OverCapacity(uint32_t s) const { return load_[s] > capacity_; }

  // The first preferred shard with room, filling up to the mean before going up to the
  // capacity (which leaves every shard slack for growth), from hashed probes then a scan.
  // kNoShard when no active shard has room.
  uint32_t Walk(uint64_t id, double w) const {
    for (uint32_t k = 0; k < probes_; ++k) {
      uint32_t s = Probe(id, k);
      if (Active(s) && FitsMean(s, w)) return s;
    }
    for (uint32_t k = 0; k < probes_; ++k) {
      uint32_t s = Probe(id, k);
      if (Active(s) && FitsCapacity(s, w)) return s;
    }
    return ScanFrom(Probe(id, 0), [&](uint32_t c) { return FitsCapacity(c, w); });
  }

  // The active shard with the most room (lowest ordinal on ties).
  uint32_t LeastLoaded() const {
    uint32_t best = kNoShard;
    for (uint32_t c = 0; c < shards_.size(); ++c) {
      if (Active(c) && (best == kNoShard || load_[c] < load_[best])) best = c;
    }
    return best;
  }

  void Add(uint32_t s, double w) { load_[s] += w; }
  void Remove(uint32_t s, double w) { load_[s] -= w; }
  std::vector<double> TakeLoads() { return std::move(load_); }

 private:
  template <typename Pred>
  uint32_t ScanFrom(uint32_t start, Pred pred) const {
    const uint32_t n = static_cast<uint32_t>(shards_.size());
    for (uint32_t j = 0; j < n; ++j) {
      uint32_t s = (start + j) % n;
      if (Active(s) && pred(s)) return s;
    }
    return kNoShard;
  }

  const std::vector<ShardState>& shards_;
  uint32_t probes_;
  double mean_;
  double capacity_;
  uint32_t space_ = 0;
  std::vector<double> load_;
};

Status Validate(const AssignInput& in) {
  const auto& o = in.options;
  if (!(o.epsilon >= 0) || !std::isfinite(o.epsilon)) {
    return Status::InvalidArgument("epsilon must be a finite number >= 0");
  }
  if (o.probes == 0) return Status::InvalidArgument("probes must be >= 1");
  if (o.handoff_timeout.count() < 0) return Status::InvalidArgument("negative handoff timeout");
  if (in.shards.size() >= kNoShard) return Status::InvalidArgument("too many shards");
  if (std::none_of(in.shards.begin(), in.shards.end(),
                   [](ShardState s) { return s == ShardState::kActive; })) {
    return Status::FailedPrecondition("no active shard");
  }
  if (in.previous != nullptr) {
    const auto& prev = *in.previous;
    for (size_t i = 1; i < prev.targets.size(); ++i) {
      if (prev.targets[i - 1].id >= prev.targets[i].id) {
        return Status::InvalidArgument("previous targets must be sorted by id and unique");
      }
    }
    for (size_t i = 1; i < prev.handoffs.size(); ++i) {
      if (prev.handoffs[i - 1].target >= prev.handoffs[i].target) {
        return Status::InvalidArgument("previous handoffs must be sorted by target and unique");
      }
    }
  }
  for (const auto& t : in.targets) {
    if (!std::isfinite(t.measured_series)) {
      return Status::InvalidArgument("measured series must be finite");
    }
  }
  return Status::OK();
}

// Heavy targets first so they find room while shards are empty and the light ones fill the
// gaps; ties by id (the index into the id-sorted targets) keep the order total.
std::vector<uint32_t> HeaviestFirst(const std::vector<double>& weights) {
  std::vector<std::pair<double, uint32_t>> keyed(weights.size());
  for (uint32_t i = 0; i < weights.size(); ++i) keyed[i] = {-weights[i], i};
  std::sort(keyed.begin(), keyed.end());
  std::vector<uint32_t> order(keyed.size());
  for (size_t i = 0; i < keyed.size(); ++i) order[i] = keyed[i].second;
  return order;
}

// Takes targets lighter than `than` off `shard`, lightest first, until it is within
// capacity again (or nothing lighter is left). `keep` is the target just placed there.
void EvictLightest(uint32_t shard, double than, uint32_t keep, Placer* placer,
                   std::vector<TargetAssignment>* targets, std::vector<uint32_t>* evicted) {
  std::vector<uint32_t> candidates;
  for (uint32_t i = 0; i < targets->size(); ++i) {
    const TargetAssignment& t = (*targets)[i];
    if (t.owner == shard && i != keep && t.weight < than) candidates.push_back(i);
  }
  std::sort(candidates.begin(), candidates.end(), [&](uint32_t a, uint32_t b) {
    return std::make_pair((*targets)[a].weight, a) < std::make_pair((*targets)[b].weight, b);
  });
  for (uint32_t i : candidates) {
    if (!placer->OverCapacity(shard)) break;
    placer->Remove(shard, (*targets)[i].weight);
    (*targets)[i].owner = kNoShard;
    evicted->push_back(i);
  }
}

}  // namespace

Result<Assignment> Assign(const AssignInput& in) {
  SHARDWISE_RETURN_IF_ERROR(Validate(in));
  std::vector<TargetInput> targets(in.targets.begin(), in.targets.end());
  std::sort(targets.begin(), targets.end(),
            [](const TargetInput& a, const TargetInput& b) { return a.id < b.id; });
  for (size_t i = 1; i < targets.size(); ++i) {
    if (targets[i].id == targets[i - 1].id) {
      return Status::InvalidArgument("duplicate target id " + std::to_string(targets[i].id));
    }
  }
  const size_t n = targets.size();
  const std::vector<double> weights = EstimateWeights(targets, in.options.default_series);
  double total = 0;
  for (double w : weights) total += w;
  const auto active =
      static_cast<double>(std::count(in.shards.begin(), in.shards.end(), ShardState::kActive));

  Assignment out;
  out.shards = in.shards;
  out.stats.mean_load = total / active;
  out.stats.capacity = (1 + in.options.epsilon) * out.stats.mean_load;
  Placer placer(in.shards, in.options.probes, out.stats.mean_load, out.stats.capacity);

  // Match the previous assignment by id (both sides sorted).
  std::vector<const TargetAssignment*> prev(n, nullptr);
  if (in.previous != nullptr) {
    auto it = in.previous->targets.begin();
    const auto end = in.previous->targets.end();
    for (size_t i = 0; i < n && it != end; ++i) {
      while (it != end && it->id < targets[i].id) ++it;
      if (it != end && it->id == targets[i].id) prev[i] = &*it;
    }
  }

  out.targets.resize(n);
  for (size_t i = 0; i < n; ++i) {
    out.targets[i] = {targets[i].id, weights[i], kNoShard, placer.Home(targets[i].id)};
  }
  const std::vector<uint32_t> order = HeaviestFirst(weights);

  // The target's first choice is now a shard that joined or came back: its old first choice
  // is still active, so something new was put ahead of it. (When the old first choice left,
  // the target simply stays where it is.)
  const auto moved_home = [&](size_t i) {
    return prev[i] != nullptr && prev[i]->home != out.targets[i].home &&
           placer.Active(prev[i]->home);
  };
  // Pass 1 — stay: a target keeps its active owner while its first choice is unchanged and
  // the owner has room. Heaviest first, so a shard pushed over capacity sheds its lightest.
  for (uint32_t i : order) {
    TargetAssignment& t = out.targets[i];
    if (prev[i] == nullptr || !placer.Active(prev[i]->owner) || moved_home(i)) continue;
    if (!placer.FitsCapacity(prev[i]->owner, t.weight)) continue;
    t.owner = prev[i]->owner;
    placer.Add(t.owner, t.weight);
  }
  // Pass 2 — everything else, heaviest first so big targets find room first. A new target, a
  // target whose owner is no longer active, or one whose first choice changed (a shard joined
  // or came back) goes to its first choice while that is below the mean load — so a new
  // shard takes at most one mean load, the ideal share. Otherwise it stays with its owner if
  // that has room, or walks its preference order.
  // Every choice fits the state it was made in, so feeding the result back changes nothing.
  std::vector<uint32_t> evicted;
  for (uint32_t i : order) {
    TargetAssignment& t = out.targets[i];
    if (t.owner != kNoShard) continue;
    const uint32_t stay = prev[i] != nullptr ? prev[i]->owner : kNoShard;
    const bool stay_active = placer.Active(stay);
    if ((!stay_active || moved_home(i)) && placer.FitsMean(t.home, t.weight)) {
      t.owner = t.home;
    } else if (stay_active && moved_home(i) && placer.FitsCapacity(stay, t.weight)) {
      t.owner = stay;
    } else {
      t.owner = placer.Walk(t.id, t.weight);
    }
    if (t.owner != kNoShard) {
      placer.Add(t.owner, t.weight);
      continue;
    }
    // Too heavy for the slack anywhere: it goes to the emptiest shard, which makes room by
    // giving up its lightest targets (lighter than this one), placed again below.
    t.owner = placer.LeastLoaded();
    placer.Add(t.owner, t.weight);
    EvictLightest(t.owner, t.weight, i, &placer, &out.targets, &evicted);
  }
  std::sort(evicted.begin(), evicted.end(), [&](uint32_t a, uint32_t b) {
    return std::make_pair(-weights[a], a) < std::make_pair(-weights[b], b);
  });
  for (uint32_t i : evicted) {
    TargetAssignment& t = out.targets[i];
    t.owner = placer.Walk(t.id, t.weight);
    if (t.owner == kNoShard) {
      ++out.stats.over_capacity;
      t.owner = placer.LeastLoaded();
    }
    placer.Add(t.owner, t.weight);
  }

  const Confirmations confirmations(in.confirmations);
  const HandoffContext handoff_context{in.shards, confirmations, in.now, in.options.handoff_timeout,
                                       in.options.cutover_delay};
  auto prev_handoff = in.previous != nullptr ? in.previous->handoffs.begin()
                                             : std::vector<Handoff>::const_iterator{};
  const auto prev_handoff_end =
      in.previous != nullptr ? in.previous->handoffs.end() : std::vector<Handoff>::const_iterator{};
  for (size_t i = 0; i < n; ++i) {
    const TargetAssignment& t = out.targets[i];
    const Handoff* handoff = nullptr;
    while (prev_handoff != prev_handoff_end && prev_handoff->target < t.id) ++prev_handoff;
    if (prev_handoff != prev_handoff_end && prev_handoff->target == t.id) handoff = &*prev_handoff;
    const uint32_t prev_owner = prev[i] != nullptr ? prev[i]->owner : kNoShard;
    if (prev[i] == nullptr) {
      ++out.stats.new_targets;
    } else if (prev_owner != t.owner) {
      ++out.stats.moved_targets;
      out.stats.moved_weight += t.weight;
    }
    const size_t handoffs_before = out.handoffs.size();
    UpdateHandoff(handoff_context, t.id, prev_owner, t.owner, handoff, &out);
    // Back to a handoff's source, which still scrapes it, is no move without a handoff.
    if (prev[i] != nullptr && prev_owner != t.owner && out.handoffs.size() == handoffs_before &&
        (handoff == nullptr || handoff->from != t.owner)) {
      ++out.stats.moved_without_handoff;
    }
  }

  out.load = placer.TakeLoads();
  out.owned.assign(in.shards.size(), 0);
  out.handing_off.assign(in.shards.size(), 0);
  for (const auto& t : out.targets) ++out.owned[t.owner];
  for (const auto& h : out.handoffs) ++out.handing_off[h.from];
  return out;
}

std::vector<ShardState> ScaleTo(std::vector<ShardState> shards, uint32_t desired) {
  for (uint32_t i = 0; i < shards.size(); ++i) {
    if (i >= desired) {
      shards[i] = ShardState::kDraining;
    } else if (shards[i] == ShardState::kDraining) {
      shards[i] = ShardState::kActive;
    }
  }
  if (shards.size() < desired) shards.resize(desired, ShardState::kActive);
  return shards;
}

uint32_t RemovableTail(const Assignment& assignment) {
  uint32_t tail = 0;
  for (size_t s = assignment.shards.size(); s > 0 && assignment.Drained(s - 1); --s) ++tail;
  return tail;
}

}  // namespace shardwise::assign
