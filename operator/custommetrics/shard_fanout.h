// ShardFanout: reads samples and series for custom metrics from the scraper shards, and only
// from the shards that can hold them. A shard may hold a series when one of the targets in
// its plan has target labels compatible with the selector: every matcher on a label the
// target carries must match the target's value (a matcher on any other label — the metric
// name, labels the metric itself brings — cannot rule a shard out). So a query for the pods
// of one Deployment reaches the few shards that scrape those pods, not the whole fleet.
//
// Each shard is asked in parallel, one replica after the other until one answers, within one
// deadline for the whole call: a slow or dead shard makes the call fail with an error naming
// that shard, never hang. Series seen on several shards (a target in a make-before-break
// handoff, replicas of a shard) are merged: points united by timestamp.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/http/client.h"
#include "common/labels.h"
#include "operator/promql/engine.h"

namespace shardwise::custommetrics {

struct ShardInfo {
  std::string name;               // "namespace/pool/shard", for errors
  std::vector<std::string> urls;  // each replica's scraper base URL ("http://IP:9091")
  std::vector<Labels> targets;    // the target labels of the shard's plan
};

// Where the shards are; the operator's implementation reads the published plans and the
// scraper pods (plan_directory.h).
class ShardDirectory {
 public:
  virtual ~ShardDirectory() = default;
  virtual std::vector<ShardInfo> Shards() const = 0;
};

// Whether a shard scraping targets with `target` labels can hold a series the matchers select.
bool TargetMayMatch(const Labels& target, const std::vector<promql::Matcher>& matchers);
bool ShardMayHold(const ShardInfo& shard, const std::vector<promql::Matcher>& matchers);

class ShardFanout {
 public:
  struct Options {
    std::chrono::milliseconds deadline{std::chrono::seconds(5)};
  };
  // `client` must outlive this object.
  ShardFanout(const ShardDirectory* directory, http::Client* client, Options options);

  // Samples of every matching series in [mint, maxt] from the shards that may hold them
  // (remote read). `shards_asked`, when set, receives how many shards were asked.
  Result<std::vector<promql::Series>> Select(const std::vector<promql::Matcher>& matchers,
                                             int64_t mint, int64_t maxt,
                                             size_t* shards_asked = nullptr) const;
  // Label sets of the series matching `selector` (PromQL selector text, parsed to
  // `matchers`) with samples in [mint, maxt] (the scrapers' /api/v1/series). With
  // `partial_error` set, shards that fail are reported there and the others' series returned.
  Result<std::vector<Labels>> Series(const std::string& selector,
                                     const std::vector<promql::Matcher>& matchers, int64_t mint,
                                     int64_t maxt, Status* partial_error = nullptr) const;

  // Requests sent to shards so far (each replica tried counts).
  uint64_t shard_requests() const { return shard_requests_; }

 private:
  template <typename T>
  Result<std::vector<T>> Gather(
      const std::vector<promql::Matcher>& matchers, size_t* shards_asked, Status* partial_error,
      const std::function<Result<std::vector<T>>(const std::string& url,
                                                 std::chrono::milliseconds timeout)>& one) const;

  const ShardDirectory* directory_;
  http::Client* client_;
  Options options_;
  mutable std::atomic<uint64_t> shard_requests_{0};
};

// A promql::SampleSource over a fanout, counting the shards its Selects asked.
class FanoutSource : public promql::SampleSource {
 public:
  explicit FanoutSource(const ShardFanout* fanout) : fanout_(fanout) {}
  Result<std::vector<promql::Series>> Select(const std::vector<promql::Matcher>& matchers,
                                             int64_t mint, int64_t maxt) override;
  size_t shards_asked() const { return shards_asked_; }

 private:
  const ShardFanout* fanout_;
  size_t shards_asked_ = 0;
};

}  // namespace shardwise::custommetrics
