#include "operator/pool/pool_snapshot.h"

namespace shardwise::pool {

void SnapshotStore::Publish(PoolSnapshot snapshot, const std::string& decision) {
  HistoryPoint p;
  p.at = snapshot.taken;
  p.shards = snapshot.shard_count;
  p.desired_shards = snapshot.desired_shards;
  p.ready_shards = snapshot.ready;
  p.series = snapshot.series;
  p.samples_per_second = snapshot.samples_per_second;
  p.decision = decision;
  std::lock_guard lock(mu_);
  Entry& e = pools_[{snapshot.ns, snapshot.name}];
  // Points are at least history_step apart, except that a decision is never dropped.
  if (e.history.empty() || !decision.empty() ||
      p.at - e.history.back().at >= options_.history_step) {
    e.history.push_back(std::move(p));
  }
  while (e.history.size() > options_.history_points) e.history.pop_front();
  snapshot.history.assign(e.history.begin(), e.history.end());
  e.latest = std::make_shared<const PoolSnapshot>(std::move(snapshot));
}

void SnapshotStore::Remove(const std::string& ns, const std::string& name) {
  std::lock_guard lock(mu_);
  pools_.erase({ns, name});
}

std::vector<std::shared_ptr<const PoolSnapshot>> SnapshotStore::List() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<const PoolSnapshot>> out;
  for (const auto& [_, e] : pools_) {
    if (e.latest) out.push_back(e.latest);
  }
  return out;
}

std::shared_ptr<const PoolSnapshot> SnapshotStore::Get(const std::string& ns,
                                                       const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = pools_.find({ns, name});
  return it == pools_.end() ? nullptr : it->second.latest;
}

}  // namespace shardwise::pool
