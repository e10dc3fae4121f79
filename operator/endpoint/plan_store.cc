#include "operator/endpoint/plan_store.h"

namespace shardwise::endpoint {

PlanStore::PlanStore()
    : next_generation_(
          static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count())) {}

uint64_t PlanStore::Publish(const ShardKey& key, plan::ScrapePlan plan) {
  std::lock_guard lock(mu_);
  auto it = plans_.find(key);
  if (it != plans_.end()) {
    plan.generation = it->second.generation;
    if (plan == it->second) return plan.generation;  // unchanged: keep the ETag
  }
  plan.generation = ++next_generation_;
  uint64_t gen = plan.generation;
  plans_[key] = std::move(plan);
  changed_.notify_all();
  return gen;
}

void PlanStore::Remove(const ShardKey& key) {
  std::lock_guard lock(mu_);
  if (plans_.erase(key) > 0) changed_.notify_all();
}

std::optional<plan::ScrapePlan> PlanStore::Get(const ShardKey& key) const {
  std::lock_guard lock(mu_);
  auto it = plans_.find(key);
  if (it == plans_.end()) return std::nullopt;
  return it->second;
}

std::vector<ShardKey> PlanStore::Keys() const {
  std::lock_guard lock(mu_);
  std::vector<ShardKey> keys;
  for (const auto& [k, _] : plans_) keys.push_back(k);
  return keys;
}

std::optional<plan::ScrapePlan> PlanStore::WaitForChange(
    const ShardKey& key, uint64_t known, std::chrono::milliseconds wait,
    const std::function<bool()>& cancelled) const {
  auto deadline = std::chrono::steady_clock::now() + wait;
  std::unique_lock lock(mu_);
  while (true) {
    auto it = plans_.find(key);
    uint64_t gen = it == plans_.end() ? 0 : it->second.generation;
    if (gen != known || known == 0) break;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    lock.unlock();
    bool stop = cancelled && cancelled();
    lock.lock();
    if (stop) break;
    changed_.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(200)));
  }
  auto it = plans_.find(key);
  if (it == plans_.end()) return std::nullopt;
  return it->second;
}

bool ReportStore::Put(const ShardKey& key, plan::LoadReport report, Clock::time_point now) {
  std::vector<std::function<void(const ShardKey&)>> listeners;
  {
    std::lock_guard lock(mu_);
    if (!admits_ || !admits_(key)) return false;
    reports_[key] = Entry{std::move(report), now};
    listeners = listeners_;
  }
  for (const auto& fn : listeners) fn(key);
  return true;
}

bool ReportStore::Admits(const ShardKey& key) const {
  std::lock_guard lock(mu_);
  return admits_ && admits_(key);
}

void ReportStore::SetAdmission(std::function<bool(const ShardKey&)> admits) {
  std::lock_guard lock(mu_);
  admits_ = std::move(admits);
}

void ReportStore::RetainOnly(const std::string& ns, const std::string& pool,
                             const std::function<bool(const ShardKey&)>& keep) {
  std::lock_guard lock(mu_);
  for (auto it = reports_.begin(); it != reports_.end();) {
    if (it->first.ns == ns && it->first.pool == pool && !keep(it->first)) {
      it = reports_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t ReportStore::size() const {
  std::lock_guard lock(mu_);
  return reports_.size();
}

std::optional<ReportStore::Entry> ReportStore::Get(const ShardKey& key) const {
  std::lock_guard lock(mu_);
  auto it = reports_.find(key);
  if (it == reports_.end()) return std::nullopt;
  return it->second;
}

std::map<ShardKey, ReportStore::Entry> ReportStore::All() const {
  std::lock_guard lock(mu_);
  return reports_;
}

void ReportStore::Remove(const ShardKey& key) {
  std::lock_guard lock(mu_);
  reports_.erase(key);
}

void ReportStore::OnReport(std::function<void(const ShardKey&)> fn) {
  std::lock_guard lock(mu_);
  listeners_.push_back(std::move(fn));
}

}  // namespace shardwise::endpoint
