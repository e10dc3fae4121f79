// The HPA's arithmetic (kube-api.md §14; replica_calculator.go and horizontal.go of
// kube-controller-manager), free of I/O so it can be tested table by table: replica
// proposals per metric type, the tolerance, the missing/unready pod rebalancing, the
// stabilization windows, and the rate limits of spec.behavior (or the legacy rules
// without it). Values are milli-units (Quantity::milli).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace shardwise::kubesim::hpa {

inline constexpr double kTolerance = 0.1;

// A pod the scale target's selector selects, as the Pods metric calculation groups it.
struct PodSample {
  std::string name;
  bool ignored = false;          // being deleted or Failed
  bool pending = false;          // Pending: counted as unready
  std::optional<int64_t> value;  // the metric, if the API returned one
};

struct Proposal {
  long replicas = 0;
  int64_t usage = 0;  // the value to report in status (average or total, milli)
};

// Pods metric with target averageValue `target`. Error text in *error when no pod or no
// value is usable.
std::optional<Proposal> PodsMetricReplicas(long current, int64_t target,
                                           const std::vector<PodSample>& pods, std::string* error);
// Object or External metric with target `value`: `ready_pods` are Running and Ready pods
// of the target (used only when current > 0).
Proposal ValueMetricReplicas(long current, int64_t usage, int64_t target, long ready_pods);
// Object or External metric with target averageValue: `status_replicas` from /scale.
Proposal AverageValueMetricReplicas(long status_replicas, int64_t usage, int64_t target);

struct Policy {
  std::string type;  // Pods | Percent
  long value = 0;
  long period_seconds = 15;
};
struct Rules {
  long stabilization_window_seconds = 0;
  std::string select_policy = "Max";  // Max | Min | Disabled
  std::vector<Policy> policies;
};
// API defaults for spec.behavior.scaleUp / scaleDown (scaleDown's window is filled by
// the controller: 300 s).
Rules DefaultScaleUp();
Rules DefaultScaleDown();

struct Recommendation {
  long replicas;
  double at;  // seconds, any monotonic clock
};
struct ScaleEvent {
  long change;  // replicas added (scale-up list) or removed (scale-down list), > 0
  double at;
};

// What an HPA remembers between syncs.
struct History {
  std::deque<Recommendation> recommendations;
  std::deque<ScaleEvent> ups, downs;
};

// A stabilized, rate-limited desired count and the conditions it set.
struct Normalized {
  long replicas = 0;
  std::string able_reason, able_message;  // AbleToScale=True
  bool limited = false;                   // ScalingLimited status
  std::string limited_reason, limited_message;
};

// Without spec.behavior: highest recommendation of the last `downscale_window` seconds,
// then [min, min(max, max(2×current, 4))]. Records `desired` in `history`.
Normalized NormalizeLegacy(long current, long desired, long min_replicas, long max_replicas,
                           double now, double downscale_window, History& history);
// With spec.behavior.
Normalized NormalizeWithBehavior(long current, long desired, long min_replicas, long max_replicas,
                                 const Rules& up, const Rules& down, double now, History& history);

// Limits from the policies (exposed for tests).
long ScaleUpLimit(long current, const History& h, const Rules& rules, double now);
long ScaleDownLimit(long current, const History& h, const Rules& rules, double now);

// Records a rescale from `from` to `to` for the rate limits (with behavior only), dropping
// events older than the longest policy period.
void RecordScale(History& h, long from, long to, double now, const Rules& up, const Rules& down);

}  // namespace shardwise::kubesim::hpa
