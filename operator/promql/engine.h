// Evaluates a parsed PromQL expression at one instant, with Prometheus 2.x semantics:
// lookback delta 5 m, range selectors over [t - range, t], staleness markers end a series,
// rate/increase/delta extrapolation, vector matching, and the metric name dropped where
// Prometheus drops it. Samples come from a SampleSource, so the same engine runs over
// remote-read data from scrapers or over in-memory data in tests.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "common/labels.h"
#include "common/status.h"
#include "operator/promql/ast.h"

namespace shardwise::promql {

inline constexpr int64_t kLookbackDeltaMs = 5 * 60 * 1000;

struct Point {
  int64_t t = 0;  // ms since the epoch
  double v = 0;
  bool operator==(const Point&) const = default;
};

struct Series {
  Labels labels;
  std::vector<Point> points;  // ascending by time; may contain staleness markers
};

struct Sample {
  Labels labels;
  double v = 0;
};

using Vector = std::vector<Sample>;
using Matrix = std::vector<Series>;

struct Value {
  ValueType type = ValueType::kScalar;
  double scalar = 0;
  std::string str;
  Vector vector;
  Matrix matrix;
};

// Where samples come from. Select returns every series matching all matchers with its points
// in [mint, maxt] (inclusive), or an error (e.g. a shard did not answer in time).
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  virtual Result<std::vector<Series>> Select(const std::vector<Matcher>& matchers, int64_t mint,
                                             int64_t maxt) = 0;
};

// Bounds against expensive queries; exceeding one is ResourceExhausted.
struct Limits {
  size_t max_series = 10000;
  size_t max_samples = 5000000;
};

// Series in a source held in memory; for tests and for data fetched ahead of evaluation.
class MemorySource : public SampleSource {
 public:
  explicit MemorySource(std::vector<Series> series) : series_(std::move(series)) {}
  Result<std::vector<Series>> Select(const std::vector<Matcher>& matchers, int64_t mint,
                                     int64_t maxt) override;

 private:
  std::vector<Series> series_;
};

// Evaluates `expr` at time `t_ms`.
Result<Value> Evaluate(const Expr& expr, SampleSource& source, int64_t t_ms,
                       const Limits& limits = {});
// Parses and evaluates.
Result<Value> Query(std::string_view query, SampleSource& source, int64_t t_ms,
                    const Limits& limits = {});

// True for Prometheus's staleness-marker NaN.
bool IsStaleMarker(double v);
double StaleMarker();

}  // namespace shardwise::promql
