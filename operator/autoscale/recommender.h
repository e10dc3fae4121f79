// Recommender: how many scraper shards a pool needs, from the load its shards report. Pure
// and deterministic: it reads no clock (each Observation carries its time) and keeps only
// the history it was given, so a load history replays to the same decisions.
//
// Each Observe() computes an instant recommendation, then stabilizes it:
//   1. Load: ceil(series / targetSeriesPerShard) and ceil(samples/s / targetSamplesPerSecond-
//      PerShard), the larger. Growing needs the load above the target; shrinking needs it to
//      fit the smaller count at `scale_in_fraction` of the target (a dead band: noise around
//      one boundary never alternates the answer).
//   2. Trend: a least-squares line over the last `trend_window` of observations. When it fits
//      well (r² ≥ min_trend_r2) and rises, the load expected `lookahead` from now (the scale-up
//      window plus the time a new shard needs) counts as load, so a steady ramp is met before
//      it crosses the target rather than a window after. Never used to shrink.
//   3. Saturation, which means a shard is overloaded whatever its targets: its scrape budget
//      (`saturation`) or memory (of its pod limit) above their thresholds raise the count in
//      proportion (N × utilisation / threshold; for memory N is the count when the pressure
//      began, since a scraper's memory does not fall when targets move away); skipped
//      scrape ticks, or a remote-write lag above `lag_floor` that grew over the last three
//      reports, ask for at least one more shard. A shard whose largest target alone exceeds the
//      per-shard target cannot be relieved by more shards: it is reported (target_too_large) and
//      does not raise the count, which would otherwise grow to maxShards and back.
//   4. Stabilization: the count rises once every instant recommendation during the last
//      scaleUpStabilization window asked for more (to the smallest of them), and falls once
//      every one during scaleDownStabilization allowed fewer (to the largest of them); both
//      windows must be covered by history. Never down while a handoff is in flight or a shard
//      is Lost (that history is discarded: the window starts again afterwards).
//   5. Clamped to [minShards, maxShards]; a count outside the bounds moves at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace shardwise::autoscale {

using Clock = std::chrono::system_clock;

struct Policy {
  int min_shards = 1;
  int max_shards = 0;        // 0 = unbounded
  double target_series = 0;  // per shard; 0 = not a criterion
  double target_samples_per_second = 0;
  std::chrono::seconds scale_up_window{60};
  std::chrono::seconds scale_down_window{600};
  double scale_in_fraction = 0.9;
  std::chrono::seconds trend_window{300};
  std::chrono::seconds shard_startup{30};  // lookahead = scale_up_window + shard_startup
  double min_trend_r2 = 0.8;
  double saturation_threshold = 0.8;  // share of the scrape budget
  double memory_threshold = 0.85;     // share of the pod's memory limit
  double lag_floor_seconds = 30;
  bool operator==(const Policy&) const = default;
};

struct ShardLoad {
  int index = 0;
  double series = 0;
  double samples_per_second = 0;
  double saturation = 0;  // 0..1
  uint64_t skipped_ticks = 0;
  double remote_write_lag_seconds = 0;
  double memory_bytes = 0;
  double memory_limit_bytes = 0;  // 0 = unknown
  double largest_target_series = 0;
};

struct Observation {
  Clock::time_point at;
  int current_shards = 1;  // .spec.shards
  // Pool totals, counting a target scraped by two shards during a handoff once.
  double series = 0;
  double samples_per_second = 0;
  std::vector<ShardLoad> shards;   // the shards that reported recently
  bool handoff_in_flight = false;  // a target moving or a shard draining
  bool shard_lost = false;
};

struct Recommendation {
  int desired = 1;        // what .spec.shards should be now
  int instant = 1;        // this observation's own answer, before stabilization
  std::string reason;     // the figures behind `instant` ("4.1M series over a target ...")
  std::string held;       // why `desired` differs from `instant`, if it does
  std::string too_large;  // non-empty: a target too large for any shard (with figures)
};

class Recommender {
 public:
  explicit Recommender(Policy policy);

  // Replaces the policy, keeping the history (a spec edit must not restart the windows).
  void SetPolicy(const Policy& policy);
  const Policy& policy() const { return policy_; }

  // Observations must come in time order; an earlier one than the last is ignored for
  // history (and answered with the current count).
  Recommendation Observe(const Observation& obs);

 private:
  struct Point {
    Clock::time_point at;
    double series = 0, samples_per_second = 0;
  };
  struct Instant {
    Clock::time_point at;
    int shards = 0;
    bool blocked = false;  // a handoff or a Lost shard: cannot count towards a scale-down
  };
  int LoadShards(double load, double target, int current) const;
  std::optional<double> Projected(double Point::*field, const Point& now, double* slope) const;
  void Prune(Clock::time_point now);

  Policy policy_;
  std::deque<Point> points_;
  std::deque<Instant> instants_;
  std::deque<std::vector<ShardLoad>> shard_history_;  // the last three observations' shards
  // Shard index -> the shard count when its memory went above the threshold (while it stays).
  std::map<int, int> memory_pressure_count_;
};

// "4.1M", "950k", "12", for reasons and Events.
std::string HumanCount(double v);
// "1 target", "3 targets": a count and its noun, for Events people read.
std::string Counted(long long n, const std::string& noun);

}  // namespace shardwise::autoscale
