// WorkloadMetricsProvider: any workload's own metrics for HPAs, from prometheus-adapter rules
// evaluated over the scrapers' TSDBs (issue 13; docs/custom-metrics.md).
//
// Discovery (Relist, every `relist_interval` on a thread of its own, like the adapter's
// metrics-relist-interval): each rule's seriesQuery is asked of the shards that may hold it
// (/api/v1/series over the last `relist_interval`, at least a minute); each series that passes
// seriesFilters and `name.matches` yields the metric `name.as` for every resource its labels
// stand for (`resources` overrides/template), namespaced when it carries the namespace label.
// externalRules yield external metrics. A rule whose shards do not all answer keeps what the
// previous round found for it.
//
// Values: metricsQuery rendered as the adapter renders it (<<.Series>>, <<.LabelMatchers>>,
// <<.GroupBy>>) and evaluated by the PromQL engine at request time over samples fetched only
// from the shards that scrape the matching targets (ShardFanout); a slow or dead shard fails
// the request with an error naming it within the fanout's deadline. One value per object (the
// sample whose group-by label names it), a Quantity in milli-units, windowSeconds the
// longest range in the query. Bounded per request (`limits`: series and samples; at most
// `max_objects` objects for "*"). Results are cached per rendered query for `cache_ttl` (an
// HPA sync period), so several HPAs on one metric, or one HPA's retries, cost one evaluation.
//
// Rules change while running (Reload, or Options::reload_rules polled before each discovery
// round): the metrics found under the old rules keep being served until the next round has
// listed the new ones, so an HPA sees no gap; a rule file that does not load changes nothing.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "operator/custommetrics/adapter_rules.h"
#include "operator/custommetrics/provider.h"
#include "operator/custommetrics/shard_fanout.h"
#include "operator/promql/engine.h"

namespace shardwise::custommetrics {

// The names of the objects of `resource` in `ns` ("" = cluster-scoped) that `selector`
// selects, for requests on "*".
using ObjectLister = std::function<Result<std::vector<std::string>>(
    const GroupResource& resource, const std::string& ns,
    const opdiscovery::LabelSelector& selector)>;

class WorkloadMetricsProvider : public MetricsProvider, public ExternalMetricsProvider {
 public:
  struct Options {
    std::chrono::milliseconds relist_interval{std::chrono::seconds(30)};
    std::chrono::milliseconds cache_ttl{std::chrono::seconds(15)};
    promql::Limits limits{10000, 2000000};
    size_t max_objects = 1000;
    // Polled before each discovery round of the Start() loop: new rules (then Reload), an
    // error (logged; the rules in use stay) or nullopt (unchanged). E.g. RulesFile.
    std::function<std::optional<Result<AdapterConfig>>()> reload_rules;
  };
  WorkloadMetricsProvider(
      AdapterConfig config, const ShardFanout* fanout, ObjectLister lister, Options options,
      std::function<Clock::time_point()> now = [] { return Clock::now(); });
  ~WorkloadMetricsProvider() override;

  // Relists now, then every relist_interval until Stop().
  void Start();
  void Stop();
  // One discovery round; the error of the first rule that could not be listed (the others
  // are listed regardless).
  Status Relist();
  // Serves `config` from now on: discovery runs at once with the new rules (its result
  // returned as Relist's); until it has, the metrics listed before stay served.
  Status Reload(AdapterConfig config);

  std::vector<MetricInfo> ListMetrics() const override;
  Result<std::vector<MetricValue>> GetMetric(const MetricQuery& query) const override;
  std::vector<std::string> ListExternalMetrics() const override;
  Result<std::vector<ExternalMetricValue>> GetExternalMetric(
      const std::string& ns, const std::string& metric,
      const opdiscovery::LabelSelector& selector) const override;

 private:
  struct Source {
    std::shared_ptr<const AdapterConfig> config;  // the rules it was listed under
    size_t rule = 0;
    std::string series;  // the series name the metric comes from
  };
  struct Evaluated {
    promql::Vector vector;
    int64_t window_seconds = 0;
    Clock::time_point at;
  };
  Result<Evaluated> Evaluate(const std::string& query) const;

  const ShardFanout* fanout_;
  ObjectLister lister_;
  const Options options_;
  std::function<Clock::time_point()> now_;

  std::mutex relist_mu_;  // one discovery round at a time
  mutable std::mutex mu_;
  std::shared_ptr<const AdapterConfig> config_;                   // the rules discovery lists with
  std::map<std::pair<std::string, std::string>, Source> custom_;  // (resource, metric)
  std::vector<MetricInfo> infos_;
  std::map<std::string, Source> external_;
  mutable std::map<std::string, Evaluated> cache_;  // by rendered query

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stopping_ = false;
  std::thread loop_;
};

// Renders every rule's metricsQuery with placeholder arguments and parses it, so a query
// outside the supported PromQL subset is an error when the configuration is loaded (naming
// the rule and the parse error's position), not on every request.
Status CheckMetricsQueries(const AdapterConfig& config);

// Matchers (rendered, `k="v"`) for a label selector, as the adapter turns metric label
// selectors into PromQL: In/NotIn as regexes, Exists as `!=""`, DoesNotExist as `=""`.
std::vector<std::string> SelectorMatchers(const opdiscovery::LabelSelector& selector);

}  // namespace shardwise::custommetrics
