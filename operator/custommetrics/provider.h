// MetricsProvider: where the custom metrics API (custom.metrics.k8s.io) gets its values.
// The API asks every registered provider that lists a (resource, metric) pair, so more
// sources plug in beside the fleet metrics (e.g. PromQL rules over the scrapers' TSDBs)
// without touching the HTTP layer, authentication or the wire formats.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "operator/discovery/monitor.h"

namespace shardwise::custommetrics {

using Clock = std::chrono::system_clock;

struct MetricInfo {
  std::string resource;  // group-qualified plural: "pods", "scrapepools.shardwise.io"
  std::string metric;
  bool namespaced = true;
  bool operator==(const MetricInfo&) const = default;
};

struct DescribedObject {
  std::string kind;
  std::string api_version;  // "/v1" for core kinds, as the metrics APIs write it
  std::string ns;
  std::string name;
};

struct MetricValue {
  DescribedObject object;
  std::string metric;
  Clock::time_point timestamp;
  int64_t window_seconds = 0;
  int64_t milli_value = 0;  // the Quantity in milli-units
};

struct MetricQuery {
  std::string resource;  // as in MetricInfo
  std::string ns;        // "" for cluster-scoped objects
  std::string name;      // "*" = every object matching `selector`
  std::string metric;
  opdiscovery::LabelSelector selector;         // objects (only with name "*")
  opdiscovery::LabelSelector metric_selector;  // metric labels
};

class MetricsProvider {
 public:
  virtual ~MetricsProvider() = default;
  virtual std::vector<MetricInfo> ListMetrics() const = 0;
  // For a named object exactly one value, or NotFound (no such object, or no value yet).
  // For "*" one value per matching object that has one (possibly none).
  virtual Result<std::vector<MetricValue>> GetMetric(const MetricQuery& query) const = 0;
};

// external.metrics.k8s.io: metrics not tied to an object, selected by their labels.
struct ExternalMetricValue {
  std::string metric;
  std::map<std::string, std::string> labels;  // metricLabels
  Clock::time_point timestamp;
  int64_t window_seconds = 0;
  int64_t milli_value = 0;
};

class ExternalMetricsProvider {
 public:
  virtual ~ExternalMetricsProvider() = default;
  virtual std::vector<std::string> ListExternalMetrics() const = 0;
  // Every series of `metric` in `ns` matching `selector` (possibly none); NotFound when the
  // metric is not served.
  virtual Result<std::vector<ExternalMetricValue>> GetExternalMetric(
      const std::string& ns, const std::string& metric,
      const opdiscovery::LabelSelector& selector) const = 0;
};

// A measured value in milli-units (the Quantity precision), saturating; NaN counts as 0.
int64_t ToMilli(double v);

}  // namespace shardwise::custommetrics
