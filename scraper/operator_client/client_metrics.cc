#include "scraper/operator_client/client_metrics.h"

namespace shardwise::opclient {

ClientMetrics& ClientMetrics::Get() {
  static ClientMetrics* m = [] {
    auto& r = metrics::Registry::Default();
    return new ClientMetrics{
        r.AddCounterFamily("shardwise_operator_client_plan_requests_total",
                           "Plan requests to the operator by result.", {"result"}),
        r.AddGauge("shardwise_operator_client_plan_generation",
                   "Generation of the scrape plan currently applied."),
        r.AddGauge("shardwise_operator_client_plan_targets",
                   "Targets in the scrape plan currently applied."),
        r.AddCounter("shardwise_operator_client_plan_apply_errors_total",
                     "Scrape plans the scrape manager could not apply."),
        r.AddGauge("shardwise_operator_client_last_successful_fetch_timestamp_seconds",
                   "Unix time of the last successful plan request to the operator."),
        r.AddGauge("shardwise_operator_plan_stale",
                   "1 while the scraper runs a plan the operator has not confirmed (loaded "
                   "from disk, or the operator is unreachable)."),
        r.AddCounterFamily("shardwise_operator_client_reports_total",
                           "Load reports sent to the operator by result.", {"result"}),
    };
  }();
  return *m;
}

}  // namespace shardwise::opclient
