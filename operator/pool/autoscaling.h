// PoolAutoscaling: a pool's `spec.autoscaling`, one step per reconcile. The pool controller
// gives it the measured load and what is in flight; it answers what to write and report.
//
//   mode Operator: the Recommender (operator/autoscale) decides; a change is written to
//     .spec.shards through the scale subresource by the controller, which then calls
//     Committed() (one Event per change, with the figures). Scale-down needs no more from
//     here: a lower .spec.shards makes the assigner drain the highest shards make-before-break
//     and the controller removes their pods once they are drained.
//     An HPA whose scaleTargetRef is the pool is a conflict: two writers would fight over
//     .spec.shards, so the operator stops writing it, and reports the conflict (condition
//     AutoscalingConflict and a Warning Event) until the HPA or the mode changes.
//   mode HPA: never writes .spec.shards; the HPA does, from the custom metrics API.
//   Every mode with targetSeriesPerShard set reports a target too large for any shard
//     (condition TargetsFitShards=False and a Warning Event on the transition).
//
// status.autoscaling: mode, desiredShards, lastScaleTime, lastScaleReason, reason (the
// figures behind the current recommendation), held (why it is not applied yet) and the
// last few recommendations that changed the answer.
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/autoscale/pool_load.h"
#include "operator/autoscale/recommender.h"
#include "operator/pool/pool_spec.h"

namespace shardwise::pool {

class PoolAutoscaling {
 public:
  using Clock = std::chrono::system_clock;

  struct Input {
    const PoolSpec* spec = nullptr;
    const autoscale::PoolLoad* load = nullptr;
    bool handoff_in_flight = false;
    bool shard_lost = false;
    std::vector<std::string> hpas;  // "ns/name" of HPAs targeting this pool
    Clock::time_point now;
    nlohmann::json previous_status;  // status.autoscaling as stored (survives restarts)
  };
  struct Event {
    std::string type, reason, message;
  };
  struct ConditionValue {
    std::string type;
    bool status = false;
    std::string reason, message;
  };
  struct Output {
    std::optional<int> scale_to;  // write .spec.shards = this, then call Committed()
    std::string scale_reason;
    std::vector<Event> events;
    std::vector<ConditionValue> conditions;
  };

  Output Step(const Input& in);
  // The write of `to` succeeded: remember it and produce its Event.
  Event Committed(int from, int to, const std::string& reason, Clock::time_point now);
  // status.autoscaling; null when the mode is Off.
  nlohmann::json Status() const { return status_; }

 private:
  static autoscale::Policy PolicyOf(const PoolSpec& spec);
  void Render(const PoolSpec& spec, const autoscale::Recommendation* rec);

  std::optional<autoscale::Recommender> recommender_;
  nlohmann::json status_;
  std::deque<nlohmann::json> recent_;
  std::string last_scale_time_, last_scale_reason_;
  int last_instant_ = -1;
  std::string last_too_large_;
  bool last_conflict_ = false;
};

}  // namespace shardwise::pool
