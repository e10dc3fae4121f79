#include "operator/custommetrics/fleet_provider.h"

#include <cmath>

#include "operator/autoscale/pool_load.h"
#include "operator/endpoint/naming.h"

namespace shardwise::custommetrics {
namespace {

using nlohmann::json;

constexpr char kPools[] = "scrapepools.shardwise.io";
constexpr char kSeries[] = "shardwise_series";
constexpr char kHeadSeries[] = "shardwise_head_series";
constexpr char kSamples[] = "shardwise_samples_per_second";
constexpr int64_t kWindowSeconds = 15;  // the scrapers' default report interval

std::map<std::string, std::string> LabelsOf(const json& obj) {
  std::map<std::string, std::string> out;
  const json& labels = obj.value("metadata", json::object()).value("labels", json::object());
  if (!labels.is_object()) return out;
  for (const auto& [k, v] : labels.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

}  // namespace

int64_t ToMilli(double v) {
  if (!std::isfinite(v)) return 0;
  double m = std::round(v * 1000);
  constexpr double kMax = 9.2e18;
  return static_cast<int64_t>(std::max(-kMax, std::min(kMax, m)));
}

FleetMetricsProvider::FleetMetricsProvider(const kube::Store* pools, const kube::Store* pods,
                                           const endpoint::ReportStore* reports,
                                           std::chrono::milliseconds fresh,
                                           std::function<Clock::time_point()> now)
    : pools_(pools), pods_(pods), reports_(reports), fresh_(fresh), now_(std::move(now)) {}

std::vector<MetricInfo> FleetMetricsProvider::ListMetrics() const {
  return {{kPools, kSeries, true},
          {kPools, kSamples, true},
          {"pods", kHeadSeries, true},
          {"pods", kSamples, true}};
}

Result<std::vector<MetricValue>> FleetMetricsProvider::GetMetric(const MetricQuery& q) const {
  // Fleet metrics carry no labels: a metric selector that needs one matches nothing.
  bool labels_ok = q.metric_selector.Matches({});
  Result<std::vector<MetricValue>> r =
      Status::NotFound("no metric " + q.metric + " for " + q.resource);
  if (q.resource == kPools && (q.metric == kSeries || q.metric == kSamples)) {
    r = PoolMetric(q);
  } else if (q.resource == "pods" && (q.metric == kHeadSeries || q.metric == kSamples)) {
    r = PodMetric(q);
  }
  if (r.ok() && !labels_ok) {
    if (q.name != "*") {
      return Status::NotFound("no " + q.metric + " series matches the metric label selector");
    }
    r->clear();
  }
  return r;
}

Result<std::vector<MetricValue>> FleetMetricsProvider::PoolMetric(const MetricQuery& q) const {
  const auto now = now_();
  const auto all = reports_->All();
  std::vector<MetricValue> out;
  for (const auto& pool : pools_->List()) {
    if (kube::NamespaceOf(*pool) != q.ns) continue;
    const std::string name = kube::NameOf(*pool);
    if (q.name != "*" ? name != q.name : !q.selector.Matches(LabelsOf(*pool))) continue;
    autoscale::PoolLoad load = autoscale::MeasurePool(all, q.ns, name, now, fresh_);
    if (load.shards.empty()) continue;  // nothing measured yet
    MetricValue v;
    v.object = {"ScrapePool", "shardwise.io/v1alpha1", q.ns, name};
    v.metric = q.metric;
    v.timestamp = now;
    v.window_seconds = kWindowSeconds;
    v.milli_value = ToMilli(q.metric == kSeries ? load.series : load.samples_per_second);
    out.push_back(std::move(v));
  }
  if (q.name != "*" && out.empty()) {
    return Status::NotFound(std::string(kPools) + " \"" + q.name + "\" has no " + q.metric +
                            " (no such pool, or no shard reported yet)");
  }
  return out;
}

Result<std::vector<MetricValue>> FleetMetricsProvider::PodMetric(const MetricQuery& q) const {
  const auto now = now_();
  std::vector<MetricValue> out;
  for (const auto& pod : pods_->List()) {
    if (kube::NamespaceOf(*pod) != q.ns) continue;
    const std::string name = kube::NameOf(*pod);
    if (q.name != "*" ? name != q.name : !q.selector.Matches(LabelsOf(*pod))) continue;
    auto key = endpoint::ParsePodName(q.ns, name);
    if (!key) continue;
    auto entry = reports_->Get(*key);
    if (!entry || now - entry->received > fresh_) continue;
    MetricValue v;
    v.object = {"Pod", "/v1", q.ns, name};
    v.metric = q.metric;
    v.timestamp = entry->received;
    v.window_seconds = kWindowSeconds;
    v.milli_value = ToMilli(q.metric == kHeadSeries ? entry->report.active_series
                                                    : entry->report.samples_per_second);
    out.push_back(std::move(v));
  }
  if (q.name != "*" && out.empty()) {
    return Status::NotFound("pods \"" + q.name + "\" has no " + q.metric +
                            " (not a scraper pod, or no recent load report)");
  }
  return out;
}

}  // namespace shardwise::custommetrics
