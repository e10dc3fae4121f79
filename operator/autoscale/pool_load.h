// MeasurePool: a pool's load from its scrapers' latest reports — what the recommender, the
// pool status and the custom metrics API all read, so they agree.
//
// A target moving between shards is scraped by both during the handoff and appears in both
// reports; counting it twice would make every scale-up look like more growth and call for
// the next one. Series are therefore summed per target (the largest count any report gives
// it), and samples/s are scaled by the same de-duplication ratio. Of a shard's replicas the
// freshest report counts (replicas scrape the same targets).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "operator/autoscale/recommender.h"
#include "operator/endpoint/plan_store.h"

namespace shardwise::autoscale {

struct PoolLoad {
  double series = 0;              // de-duplicated
  double samples_per_second = 0;  // de-duplicated
  std::vector<ShardLoad> shards;  // one per shard with a fresh report, by index
  // Per scraper pod (every replica), for the Pods metrics.
  struct Pod {
    std::string name;
    double head_series = 0;
    double samples_per_second = 0;
  };
  std::vector<Pod> pods;
};

// Reports older than `fresh` at `now` are ignored.
PoolLoad MeasurePool(const std::map<endpoint::ShardKey, endpoint::ReportStore::Entry>& reports,
                     const std::string& ns, const std::string& pool, Clock::time_point now,
                     std::chrono::milliseconds fresh);

}  // namespace shardwise::autoscale
