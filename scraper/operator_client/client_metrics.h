// The operator client's own metrics, registered once on the default registry:
//   shardwise_operator_client_plan_requests_total{result}  ok|not_modified|not_found|error|invalid
//   shardwise_operator_client_plan_generation                generation of the current plan
//   shardwise_operator_client_plan_targets                   targets in the current plan
//   shardwise_operator_client_plan_apply_errors_total        plans the scrape manager refused
//   shardwise_operator_client_last_successful_fetch_timestamp_seconds
//   shardwise_operator_plan_stale                            1 while scraping a plan the
//                                                            operator has not confirmed
//   shardwise_operator_client_reports_total{result}          ok|error
#pragma once

#include "common/metrics/registry.h"

namespace shardwise::opclient {

struct ClientMetrics {
  metrics::CounterFamily& plan_requests;
  metrics::Gauge& plan_generation;
  metrics::Gauge& plan_targets;
  metrics::Counter& plan_apply_errors;
  metrics::Gauge& last_successful_fetch;
  metrics::Gauge& plan_stale;
  metrics::CounterFamily& reports;
  static ClientMetrics& Get();
};

}  // namespace shardwise::opclient
