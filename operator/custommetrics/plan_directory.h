// PlanShardDirectory: the operator's view of where custom-metric samples live. Every published
// plan (PlanStore) is one replica of one shard: its targets' labels say what the shard
// scrapes, and the scraper pod it belongs to (named by endpoint::PodName) gives the URL of
// that replica's TSDB API (pod IP, scraper port). A target with honor_labels or metric
// relabelings counts as one that may hold any series (its series' labels may differ from the
// target's). Running, Ready pods come first, so a query
// asks a healthy replica before one that is starting.
#pragma once

#include "operator/custommetrics/shard_fanout.h"
#include "operator/endpoint/plan_store.h"
#include "operator/kube/store.h"

namespace shardwise::custommetrics {

class PlanShardDirectory : public ShardDirectory {
 public:
  PlanShardDirectory(const endpoint::PlanStore* plans, const kube::Store* pods, int scraper_port);
  std::vector<ShardInfo> Shards() const override;

 private:
  const endpoint::PlanStore* plans_;
  const kube::Store* pods_;
  int port_;
};

}  // namespace shardwise::custommetrics
