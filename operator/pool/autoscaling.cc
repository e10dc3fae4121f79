#include "operator/pool/autoscaling.h"

#include "operator/kube/time_format.h"

namespace shardwise::pool {

using nlohmann::json;

namespace {
constexpr size_t kRecentRecommendations = 5;

const char* ModeName(AutoscalingMode m) {
  switch (m) {
    case AutoscalingMode::kOperator:
      return "Operator";
    case AutoscalingMode::kHpa:
      return "HPA";
    case AutoscalingMode::kOff:
      break;
  }
  return "Off";
}
}  // namespace

autoscale::Policy PoolAutoscaling::PolicyOf(const PoolSpec& spec) {
  autoscale::Policy p;
  p.min_shards = spec.min_shards;
  p.max_shards = spec.max_shards;
  p.target_series = spec.target_series_per_shard;
  p.target_samples_per_second = spec.target_samples_per_second_per_shard;
  p.scale_up_window = std::chrono::seconds(spec.scale_up_stabilization_seconds);
  p.scale_down_window = std::chrono::seconds(spec.scale_down_stabilization_seconds);
  // The trend needs a few reports; with short windows (tests, small pools) look back at
  // least five times the scale-up window, and never less than a minute.
  p.trend_window = std::max<std::chrono::seconds>(
      std::chrono::seconds(60),
      std::min<std::chrono::seconds>(std::chrono::seconds(300), p.scale_up_window * 5));
  return p;
}

PoolAutoscaling::Output PoolAutoscaling::Step(const Input& in) {
  const PoolSpec& spec = *in.spec;
  Output out;
  if (last_scale_time_.empty() && in.previous_status.is_object()) {
    last_scale_time_ = in.previous_status.value("lastScaleTime", "");
    last_scale_reason_ = in.previous_status.value("lastScaleReason", "");
  }
  if (spec.autoscaling == AutoscalingMode::kOff) {
    recommender_.reset();
    recent_.clear();
    last_instant_ = -1;
    status_ = json();
  }

  // A target too large for any shard, in every mode that sets a per-shard target.
  std::string too_large;
  if (spec.target_series_per_shard > 0) {
    for (const auto& s : in.load->shards) {
      if (s.largest_target_series > spec.target_series_per_shard) {
        too_large = "a target of shard " + std::to_string(s.index) + " has " +
                    autoscale::HumanCount(s.largest_target_series) +
                    " series, more than the target of " +
                    autoscale::HumanCount(spec.target_series_per_shard) +
                    " per shard; more shards cannot split it";
      }
    }
    out.conditions.push_back({"TargetsFitShards", too_large.empty(),
                              too_large.empty() ? "AllTargetsFit" : "TargetTooLarge", too_large});
    if (!too_large.empty() && too_large != last_too_large_) {
      out.events.push_back({"Warning", "TargetTooLarge", too_large});
    }
  }
  last_too_large_ = too_large;
  if (spec.autoscaling == AutoscalingMode::kOff) return out;

  const bool conflict = spec.autoscaling == AutoscalingMode::kOperator && !in.hpas.empty();
  std::string conflict_msg;
  if (conflict) {
    conflict_msg = "HorizontalPodAutoscaler " + in.hpas.front() +
                   " scales this pool, whose autoscaling mode is Operator; the operator stops "
                   "writing .spec.shards until the HPA is removed or the mode is set to HPA";
    if (!last_conflict_) out.events.push_back({"Warning", "AutoscalingConflict", conflict_msg});
  }
  last_conflict_ = conflict;
  out.conditions.push_back({"AutoscalingConflict", conflict,
                            conflict ? "HPAInOperatorMode" : "NoConflict", conflict_msg});

  if (spec.autoscaling != AutoscalingMode::kOperator) {
    recommender_.reset();
    last_instant_ = -1;
    Render(spec, nullptr);
    return out;
  }
  autoscale::Policy policy = PolicyOf(spec);
  if (!recommender_) {
    recommender_.emplace(policy);
  } else if (!(recommender_->policy() == policy)) {
    recommender_->SetPolicy(policy);
  }
  autoscale::Observation obs;
  obs.at = in.now;
  obs.current_shards = spec.shards;
  obs.series = in.load->series;
  obs.samples_per_second = in.load->samples_per_second;
  obs.shards = in.load->shards;
  obs.handoff_in_flight = in.handoff_in_flight;
  obs.shard_lost = in.shard_lost;
  autoscale::Recommendation rec = recommender_->Observe(obs);
  if (conflict) rec.held = "conflict with an HPA";
  if (rec.instant != last_instant_) {
    recent_.push_front(
        {{"time", kube::FormatTime(in.now)}, {"shards", rec.instant}, {"reason", rec.reason}});
    while (recent_.size() > kRecentRecommendations) recent_.pop_back();
    last_instant_ = rec.instant;
  }
  if (!conflict && rec.desired != spec.shards) {
    out.scale_to = rec.desired;
    out.scale_reason = rec.reason;
  }
  Render(spec, &rec);
  return out;
}

PoolAutoscaling::Event PoolAutoscaling::Committed(int from, int to, const std::string& reason,
                                                  Clock::time_point now) {
  last_scale_time_ = kube::FormatTime(now);
  last_scale_reason_ = std::to_string(from) + " -> " + std::to_string(to) + ": " + reason;
  if (status_.is_object()) {
    status_["lastScaleTime"] = last_scale_time_;
    status_["lastScaleReason"] = last_scale_reason_;
  }
  return {"Normal", "AutoscaledShards", "scraper shards " + last_scale_reason_};
}

void PoolAutoscaling::Render(const PoolSpec& spec, const autoscale::Recommendation* rec) {
  json s = {{"mode", ModeName(spec.autoscaling)}};
  if (rec) {
    s["desiredShards"] = rec->desired;
    s["recommendedShards"] = rec->instant;
    s["reason"] = rec->reason;
    if (!rec->held.empty()) s["held"] = rec->held;
    json recent = json::array();
    for (const auto& r : recent_) recent.push_back(r);
    s["recommendations"] = std::move(recent);
  }
  if (!last_scale_time_.empty()) {
    s["lastScaleTime"] = last_scale_time_;
    s["lastScaleReason"] = last_scale_reason_;
  }
  status_ = std::move(s);
}

}  // namespace shardwise::pool
