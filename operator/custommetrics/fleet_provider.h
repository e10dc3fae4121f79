// FleetMetricsProvider: the scraper fleet's own load as custom metrics, so an HPA can size a
// ScrapePool (mode HPA):
//   Object metrics on scrapepools.shardwise.io: shardwise_series (active series, a target in
//     handoff counted once) and shardwise_samples_per_second — what status and the Operator-
//     mode recommender read (operator/autoscale/pool_load.h).
//   Pods metrics on the scraper pods: shardwise_head_series and shardwise_samples_per_second
//     from each pod's latest load report.
// Values come from reports younger than `fresh`; an object without one has no value.
#pragma once

#include <functional>

#include "operator/custommetrics/provider.h"
#include "operator/endpoint/plan_store.h"
#include "operator/kube/store.h"

namespace shardwise::custommetrics {

class FleetMetricsProvider : public MetricsProvider {
 public:
  FleetMetricsProvider(
      const kube::Store* pools, const kube::Store* pods, const endpoint::ReportStore* reports,
      std::chrono::milliseconds fresh,
      std::function<Clock::time_point()> now = [] { return Clock::now(); });

  std::vector<MetricInfo> ListMetrics() const override;
  Result<std::vector<MetricValue>> GetMetric(const MetricQuery& query) const override;

 private:
  Result<std::vector<MetricValue>> PoolMetric(const MetricQuery& q) const;
  Result<std::vector<MetricValue>> PodMetric(const MetricQuery& q) const;

  const kube::Store* pools_;
  const kube::Store* pods_;
  const endpoint::ReportStore* reports_;
  std::chrono::milliseconds fresh_;
  std::function<Clock::time_point()> now_;
};

}  // namespace shardwise::custommetrics
