// Our own metrics, exposed in the Prometheus text format 0.0.4 on every component's
// /metrics. Metrics are created once (Add* returns the same object for the same name, so
// components constructed twice in one process share them) and updated lock-free.
// Families with label names hand out one child per label-value tuple via With().
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace shardwise::metrics {

class Counter {
 public:
  void Inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Inc() { Add(1); }
  void Dec() { Add(-1); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double v);
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }
  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative count for bucket i (le=bounds[i]).
  uint64_t CumulativeCount(size_t i) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Buckets for latencies in seconds: 0.5 ms .. 60 s.
std::vector<double> LatencyBuckets();
std::vector<double> ExponentialBuckets(double start, double factor, int count);

template <typename T>
class Family {
 public:
  Family(std::vector<std::string> label_names, std::function<std::unique_ptr<T>()> make)
      : label_names_(std::move(label_names)), make_(std::move(make)) {}
  // The child for these label values (same order as the label names).
  T& With(const std::vector<std::string>& values) {
    std::lock_guard lock(mu_);
    auto& slot = children_[values];
    if (!slot) slot = make_();
    return *slot;
  }
  void Remove(const std::vector<std::string>& values) {
    std::lock_guard lock(mu_);
    children_.erase(values);
  }
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    std::lock_guard lock(mu_);
    for (const auto& [values, child] : children_) fn(values, *child);
  }
  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<T>()> make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

// Appends exposition text; used by collectors that compute values at scrape time.
class Writer {
 public:
  // Starts a family: writes # HELP and # TYPE (type: counter, gauge, histogram, untyped).
  void Family(std::string_view name, std::string_view help, std::string_view type);
  void Sample(std::string_view name, const std::vector<std::pair<std::string, std::string>>& labels,
              double value);
  std::string& out() { return out_; }

 private:
  std::string out_;
};

class Registry {
 public:
  static Registry& Default();

  Counter& AddCounter(const std::string& name, const std::string& help);
  Gauge& AddGauge(const std::string& name, const std::string& help);
  Histogram& AddHistogram(const std::string& name, const std::string& help,
                          std::vector<double> buckets);
  CounterFamily& AddCounterFamily(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names);
  GaugeFamily& AddGaugeFamily(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names);
  HistogramFamily& AddHistogramFamily(const std::string& name, const std::string& help,
                                      std::vector<std::string> label_names,
                                      std::vector<double> buckets);
  // Called on every Expose(); must be fast and must not call back into the registry.
  void AddCollector(std::function<void(Writer&)> collector);

  std::string Expose() const;

 private:
  struct Entry {
    std::string help;
    std::string type;
    std::unique_ptr<CounterFamily> counters;
    std::unique_ptr<GaugeFamily> gauges;
    std::unique_ptr<HistogramFamily> histograms;
  };
  Entry& GetOrAdd(const std::string& name, const std::string& help, const std::string& type);

  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
  std::vector<std::function<void(Writer&)>> collectors_;
};

// process_cpu_seconds_total, process_resident_memory_bytes, process_start_time_seconds,
// process_open_fds, read from /proc/self. Registered once on the default registry.
void RegisterProcessMetrics();

// Reads this process's user+system CPU seconds and RSS bytes (for benchmarks too).
double ProcessCpuSeconds();
double ProcessResidentBytes();

}  // namespace shardwise::metrics
