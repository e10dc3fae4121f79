// PlanStore: the latest ScrapePlan of every scraper (by ShardKey), with generations and
// long polling. ReportStore: the latest LoadReport of every scraper and when it arrived
// (the heartbeat). Both are written by the operator's controllers and read by the discovery
// endpoint; all methods are thread-safe.
//
// The report store is bounded: it admits reports only for pods the admission function
// accepts (the pool controller's known shards and replicas; nothing before it is set), and
// its entries go when their shards go (Remove, RetainOnly).
//
// Generations: Publish() bumps a plan's generation only when its content changed, so a
// scraper's conditional GET (ETag = generation) stays 304 across idempotent reconciles.
// Generations start at the operator's start time in ms, so they keep increasing across
// operator restarts and a scraper never mistakes a new plan for the one it has.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "common/plan/plan.h"
#include "operator/endpoint/naming.h"

namespace shardwise::endpoint {

class PlanStore {
 public:
  PlanStore();

  // Stores `plan` (its generation field is ignored and set here). Returns the generation.
  uint64_t Publish(const ShardKey& key, plan::ScrapePlan plan);
  void Remove(const ShardKey& key);
  std::optional<plan::ScrapePlan> Get(const ShardKey& key) const;
  std::vector<ShardKey> Keys() const;

  // Waits until the plan's generation differs from `known` (0 = any plan), `wait` passes, or
  // `cancelled()` turns true (checked about every 200 ms). Returns the current plan, or
  // nullopt when there is none.
  std::optional<plan::ScrapePlan> WaitForChange(const ShardKey& key, uint64_t known,
                                                std::chrono::milliseconds wait,
                                                const std::function<bool()>& cancelled) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::map<ShardKey, plan::ScrapePlan> plans_;
  uint64_t next_generation_;
};

class ReportStore {
 public:
  using Clock = std::chrono::system_clock;
  struct Entry {
    plan::LoadReport report;
    Clock::time_point received;
  };
  // Stores the report; false (and nothing stored) when the key is not admitted.
  bool Put(const ShardKey& key, plan::LoadReport report, Clock::time_point now = Clock::now());
  // Whether reports for `key` are accepted now.
  bool Admits(const ShardKey& key) const;
  void SetAdmission(std::function<bool(const ShardKey&)> admits);
  std::optional<Entry> Get(const ShardKey& key) const;
  std::map<ShardKey, Entry> All() const;
  void Remove(const ShardKey& key);
  // Drops the entries of `ns`/`pool` for which keep() is false.
  void RetainOnly(const std::string& ns, const std::string& pool,
                  const std::function<bool(const ShardKey&)>& keep);
  size_t size() const;
  // Called (outside the lock) after every Put; e.g. to enqueue the pool for reconciling.
  void OnReport(std::function<void(const ShardKey&)> fn);

 private:
  mutable std::mutex mu_;
  std::map<ShardKey, Entry> reports_;
  std::function<bool(const ShardKey&)> admits_;
  std::vector<std::function<void(const ShardKey&)>> listeners_;
};

}  // namespace shardwise::endpoint
