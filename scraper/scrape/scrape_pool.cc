#include "scraper/scrape/scrape_pool.h"

#include <algorithm>

#include "common/log/log.h"

namespace shardwise::scrape {

Result<std::unique_ptr<ScrapePool>> ScrapePool::New(const ScrapeConfig& config, Deps deps) {
  std::unique_ptr<ScrapePool> pool(new ScrapePool(config.job_name, std::move(deps)));
  std::lock_guard lock(pool->mu_);
  SHARDWISE_RETURN_IF_ERROR(pool->Configure(config));
  return pool;
}

ScrapePool::~ScrapePool() { Stop(); }

Status ScrapePool::Configure(const ScrapeConfig& config) {
  Result<relabel::Relabeler> target = relabel::Relabeler::Compile(config.relabel_configs);
  if (!target.ok()) return target.status().WithContext(job_ + ": relabel_configs");
  Result<relabel::Relabeler> metric = relabel::Relabeler::Compile(config.metric_relabel_configs);
  if (!metric.ok()) return metric.status().WithContext(job_ + ": metric_relabel_configs");
  config_ = config;
  target_relabeler_ = std::move(target).value();
  metric_relabeler_ = std::move(metric).value();
  return Status::OK();
}

Status ScrapePool::Reload(const ScrapeConfig& config, const std::string& source,
                          std::optional<std::vector<sd::TargetGroup>> groups) {
  std::lock_guard lock(mu_);
  SHARDWISE_RETURN_IF_ERROR(Configure(config));
  if (groups) groups_[source] = std::move(*groups);
  SyncLocked();
  return Status::OK();
}

void ScrapePool::SetGroups(const std::string& source, std::vector<sd::TargetGroup> groups) {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  groups_[source] = std::move(groups);
  SyncLocked();
}

void ScrapePool::RetainSources(const std::vector<std::string>& keep) {
  std::lock_guard lock(mu_);
  for (auto it = groups_.begin(); it != groups_.end();) {
    const std::string& key = it->first;
    bool configured = key.starts_with("file_sd/") || key.starts_with("http_sd/");
    bool kept = !configured || std::find(keep.begin(), keep.end(), key) != keep.end();
    it = kept ? std::next(it) : groups_.erase(it);
  }
  SyncLocked();
}

void ScrapePool::StopLoop(const std::shared_ptr<ScrapeLoop>& loop, bool labels_unchanged) {
  bool silent = labels_unchanged || (deps_.silent && deps_.silent(loop->target().hash));
  loop->Stop(/*stale_markers=*/!silent);
}

void ScrapePool::SyncLocked() {
  if (stopped_) return;
  std::map<uint64_t, Target> wanted;
  std::vector<DroppedTarget> dropped;
  for (const auto& [source, groups] : groups_) {
    for (const auto& group : groups) {
      for (const auto& labels : group.targets) {
        Labels discovered;
        Result<std::optional<Target>> target =
            BuildTarget(config_, target_relabeler_, labels, group.labels, &discovered);
        if (!target.ok()) {
          log::Warn("unusable target",
                    {{"job", job_}, {"labels", discovered.ToString()}, {"err", target.status()}});
          dropped.push_back({job_, std::move(discovered), target.status().message()});
          continue;
        }
        if (!target->has_value()) {
          dropped.push_back({job_, std::move(discovered), ""});
          continue;
        }
        // Two groups naming the same URL: one loop, as in Prometheus.
        wanted.emplace(target->value().hash, std::move(target->value()));
      }
    }
  }
  dropped_ = std::move(dropped);

  for (auto it = loops_.begin(); it != loops_.end();) {
    auto want = wanted.find(it->first);
    if (want == wanted.end()) {
      StopLoop(it->second, false);
      it = loops_.erase(it);
      continue;
    }
    const Target& have = it->second->target();
    const Target& next = want->second;
    bool same = have.labels == next.labels && have.interval == next.interval &&
                have.timeout == next.timeout &&
                it->second->config_fingerprint() == config_.fingerprint;
    if (!same) {
      StopLoop(it->second, have.labels == next.labels);
      it = loops_.erase(it);
      continue;
    }
    wanted.erase(want);  // unchanged: keep the running loop
    ++it;
  }
  for (auto& [hash, target] : wanted) {
    auto loop =
        std::make_shared<ScrapeLoop>(std::move(target), config_, metric_relabeler_, deps_.scheduler,
                                     *deps_.client, *deps_.storage, deps_.jitter_seed, deps_.gates);
    loop->Start();
    ++loops_started_;
    loops_.emplace(hash, std::move(loop));
  }
}

void ScrapePool::Stop(bool stale_markers) {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  stopped_ = true;
  for (auto& [hash, loop] : loops_) StopLoop(loop, /*labels_unchanged=*/!stale_markers);
  loops_.clear();
}

std::vector<TargetStatus> ScrapePool::Active() const {
  std::lock_guard lock(mu_);
  std::vector<TargetStatus> out;
  out.reserve(loops_.size());
  for (const auto& [hash, loop] : loops_) out.push_back(loop->Snapshot());
  return out;
}

void ScrapePool::ForEachMetadata(
    const std::function<void(const std::vector<storage::MetricMetadata>&)>& fn) const {
  std::vector<std::shared_ptr<ScrapeLoop>> loops;
  {
    std::lock_guard lock(mu_);
    for (const auto& [hash, loop] : loops_) loops.push_back(loop);
  }
  for (const auto& loop : loops) fn(loop->Metadata());
}

std::vector<DroppedTarget> ScrapePool::Dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

std::shared_ptr<ScrapeLoop> ScrapePool::Loop(uint64_t hash) const {
  std::lock_guard lock(mu_);
  auto it = loops_.find(hash);
  return it == loops_.end() ? nullptr : it->second;
}

size_t ScrapePool::loops_started() const {
  std::lock_guard lock(mu_);
  return loops_started_;
}

}  // namespace shardwise::scrape
