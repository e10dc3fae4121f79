#include "hack/kube-sim/hpa_replicas.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>

namespace shardwise::kubesim::hpa {
namespace {

double Ratio(const std::map<std::string, int64_t>& values, int64_t target, int64_t* avg) {
  int64_t sum = 0;
  for (const auto& [_, v] : values) sum += v;
  *avg = values.empty() ? 0 : sum / static_cast<int64_t>(values.size());
  return static_cast<double>(*avg) / static_cast<double>(target);
}

long Ceil(double v) { return static_cast<long>(std::ceil(v)); }

long ChangeInPeriod(const std::deque<ScaleEvent>& events, long period, double now) {
  long n = 0;
  for (const auto& e : events)
    if (e.at > now - static_cast<double>(period)) n += e.change;
  return n;
}

}  // namespace

std::optional<Proposal> PodsMetricReplicas(long current, int64_t target,
                                           const std::vector<PodSample>& pods, std::string* error) {
  if (pods.empty()) {
    *error = "no pods returned by selector while calculating replica count";
    return std::nullopt;
  }
  if (target <= 0) {
    *error = "the target value must be positive";
    return std::nullopt;
  }
  std::map<std::string, int64_t> values;
  std::vector<std::string> unready, missing;
  long ready = 0;
  for (const auto& p : pods) {
    if (p.ignored) continue;
    if (p.pending) {
      unready.push_back(p.name);
      continue;
    }
    if (!p.value) {
      missing.push_back(p.name);
      continue;
    }
    values[p.name] = *p.value;
    ++ready;
  }
  if (values.empty()) {
    *error = "did not receive metrics for targeted pods (pods might be unready)";
    return std::nullopt;
  }
  int64_t usage = 0;
  double ratio = Ratio(values, target, &usage);
  bool rebalance_unready = !unready.empty() && ratio > 1.0;
  if (!rebalance_unready && missing.empty()) {
    if (std::abs(1.0 - ratio) <= kTolerance) return Proposal{current, usage};
    return Proposal{Ceil(ratio * static_cast<double>(ready)), usage};
  }
  // Missing pods count as at target when scaling down and as idle when scaling up, so
  // they damp the change instead of driving it.
  for (const auto& m : missing) values[m] = ratio < 1.0 ? target : 0;
  if (rebalance_unready)
    for (const auto& u : unready) values[u] = 0;
  int64_t ignored_avg = 0;
  double new_ratio = Ratio(values, target, &ignored_avg);
  if (std::abs(1.0 - new_ratio) <= kTolerance || (ratio < 1.0 && new_ratio > 1.0) ||
      (ratio > 1.0 && new_ratio < 1.0))
    return Proposal{current, usage};
  long replicas = Ceil(new_ratio * static_cast<double>(values.size()));
  if ((new_ratio < 1.0 && replicas > current) || (new_ratio > 1.0 && replicas < current))
    return Proposal{current, usage};
  return Proposal{replicas, usage};
}

Proposal ValueMetricReplicas(long current, int64_t usage, int64_t target, long ready_pods) {
  double ratio = static_cast<double>(usage) / static_cast<double>(std::max<int64_t>(target, 1));
  if (current == 0) return Proposal{Ceil(ratio), usage};
  if (std::abs(1.0 - ratio) <= kTolerance) return Proposal{current, usage};
  return Proposal{Ceil(ratio * static_cast<double>(ready_pods)), usage};
}

Proposal AverageValueMetricReplicas(long status_replicas, int64_t usage, int64_t target) {
  target = std::max<int64_t>(target, 1);
  long replicas = status_replicas;
  double ratio =
      static_cast<double>(usage) / (static_cast<double>(target) * static_cast<double>(replicas));
  if (replicas == 0 || std::abs(1.0 - ratio) > kTolerance)
    replicas = Ceil(static_cast<double>(usage) / static_cast<double>(target));
  int64_t avg = status_replicas > 0
                    ? static_cast<int64_t>(std::ceil(static_cast<double>(usage) /
                                                     static_cast<double>(status_replicas)))
                    : usage;
  return Proposal{replicas, avg};
}

Rules DefaultScaleUp() { return Rules{0, "Max", {{"Pods", 4, 15}, {"Percent", 100, 15}}}; }

Rules DefaultScaleDown() { return Rules{300, "Max", {{"Percent", 100, 15}}}; }

Normalized NormalizeLegacy(long current, long desired, long min_replicas, long max_replicas,
                           double now, double downscale_window, History& h) {
  Normalized out;
  long stabilized = desired;
  bool replaced = false;
  for (auto& r : h.recommendations) {
    if (r.at > now - downscale_window) {
      stabilized = std::max(stabilized, r.replicas);
    } else if (!replaced) {
      r = Recommendation{desired, now};
      replaced = true;
    }
  }
  if (!replaced) h.recommendations.push_back(Recommendation{desired, now});
  if (stabilized != desired) {
    out.able_reason = "ScaleDownStabilized";
    out.able_message =
        "recent recommendations were higher than current one, applying the highest recent "
        "recommendation";
  } else {
    out.able_reason = "ReadyForNewScale";
    out.able_message = "recommended size matches current size";
  }
  long scale_up_limit = std::max(2 * current, 4L);
  long max_allowed;
  std::string reason, message;
  if (max_replicas > scale_up_limit) {
    max_allowed = scale_up_limit;
    reason = "ScaleUpLimit";
    message = "the desired replica count is increasing faster than the maximum scale rate";
  } else {
    max_allowed = max_replicas;
    reason = "TooManyReplicas";
    message = "the desired replica count is more than the maximum replica count";
  }
  long result = stabilized;
  if (stabilized < min_replicas) {
    result = min_replicas;
    reason = "TooFewReplicas";
    message = "the desired replica count is less than the minimum replica count";
  } else if (stabilized > max_allowed) {
    result = max_allowed;
  } else {
    reason = "DesiredWithinRange";
    message = "the desired count is within the acceptable range";
  }
  out.replicas = result;
  out.limited = result != stabilized;
  out.limited_reason = reason;
  out.limited_message = message;
  return out;
}

long ScaleUpLimit(long current, const History& h, const Rules& rules, double now) {
  if (rules.select_policy == "Disabled") return current;
  bool min_policy = rules.select_policy == "Min";
  long result = min_policy ? LONG_MAX : LONG_MIN;
  for (const auto& p : rules.policies) {
    long start = current - ChangeInPeriod(h.ups, p.period_seconds, now) +
                 ChangeInPeriod(h.downs, p.period_seconds, now);
    long proposed = p.type == "Pods" ? start + p.value
                                     : Ceil(static_cast<double>(start) * (1.0 + p.value / 100.0));
    result = min_policy ? std::min(result, proposed) : std::max(result, proposed);
  }
  return rules.policies.empty() ? current : result;
}

long ScaleDownLimit(long current, const History& h, const Rules& rules, double now) {
  if (rules.select_policy == "Disabled") return current;
  bool min_policy = rules.select_policy == "Min";
  long result = min_policy ? LONG_MIN : LONG_MAX;
  for (const auto& p : rules.policies) {
    long start = current - ChangeInPeriod(h.ups, p.period_seconds, now) +
                 ChangeInPeriod(h.downs, p.period_seconds, now);
    long proposed = p.type == "Pods"
                        ? start - p.value
                        : static_cast<long>(static_cast<double>(start) * (1.0 - p.value / 100.0));
    result = min_policy ? std::max(result, proposed) : std::min(result, proposed);
  }
  return rules.policies.empty() ? current : result;
}

Normalized NormalizeWithBehavior(long current, long desired, long min_replicas, long max_replicas,
                                 const Rules& up, const Rules& down, double now, History& h) {
  Normalized out;
  // Stabilize: the lowest recommendation of the scale-up window bounds an increase, the
  // highest of the scale-down window bounds a decrease.
  long up_rec = desired, down_rec = desired;
  double up_cutoff = now - static_cast<double>(up.stabilization_window_seconds);
  double down_cutoff = now - static_cast<double>(down.stabilization_window_seconds);
  std::optional<size_t> old_sample;
  for (size_t i = 0; i < h.recommendations.size(); ++i) {
    const auto& r = h.recommendations[i];
    if (r.at > up_cutoff) up_rec = std::min(up_rec, r.replicas);
    if (r.at > down_cutoff) down_rec = std::max(down_rec, r.replicas);
    if (r.at < up_cutoff && r.at < down_cutoff) old_sample = i;
  }
  long stabilized = current;
  if (stabilized < up_rec) stabilized = up_rec;
  if (stabilized > down_rec) stabilized = down_rec;
  if (old_sample) {
    h.recommendations[*old_sample] = Recommendation{desired, now};
  } else {
    h.recommendations.push_back(Recommendation{desired, now});
  }
  if (stabilized != desired) {
    if (desired >= current) {
      out.able_reason = "ScaleUpStabilized";
      out.able_message =
          "recent recommendations were lower than current one, applying the lowest recent "
          "recommendation";
    } else {
      out.able_reason = "ScaleDownStabilized";
      out.able_message =
          "recent recommendations were higher than current one, applying the highest recent "
          "recommendation";
    }
  } else {
    out.able_reason = "ReadyForNewScale";
    out.able_message = "recommended size matches current size";
  }
  // Rate limits.
  long result = stabilized;
  std::string reason = "DesiredWithinRange";
  std::string message = "the desired count is within the acceptable range";
  if (stabilized > current) {
    long limit = std::max(ScaleUpLimit(current, h, up, now), current);
    long max_allowed = max_replicas;
    std::string r = "TooManyReplicas";
    std::string m = "the desired replica count is more than the maximum replica count";
    if (max_allowed > limit) {
      max_allowed = limit;
      r = "ScaleUpLimit";
      m = "the desired replica count is increasing faster than the maximum scale rate";
    }
    if (stabilized > max_allowed) {
      result = max_allowed;
      reason = r;
      message = m;
    }
  } else if (stabilized < current) {
    long limit = std::min(ScaleDownLimit(current, h, down, now), current);
    long min_allowed = min_replicas;
    std::string r = "TooFewReplicas";
    std::string m = "the desired replica count is less than the minimum replica count";
    if (min_allowed < limit) {
      min_allowed = limit;
      r = "ScaleDownLimit";
      m = "the desired replica count is decreasing faster than the maximum scale rate";
    }
    if (stabilized < min_allowed) {
      result = min_allowed;
      reason = r;
      message = m;
    }
  }
  out.replicas = result;
  out.limited = result != stabilized;
  out.limited_reason = reason;
  out.limited_message = message;
  return out;
}

void RecordScale(History& h, long from, long to, double now, const Rules& up, const Rules& down) {
  auto longest = [](const Rules& r) {
    long p = 0;
    for (const auto& x : r.policies) p = std::max(p, x.period_seconds);
    return p;
  };
  auto trim = [&](std::deque<ScaleEvent>& q, long period) {
    while (!q.empty() && q.front().at <= now - static_cast<double>(period)) q.pop_front();
  };
  trim(h.ups, longest(up));
  trim(h.downs, longest(down));
  if (to > from) h.ups.push_back(ScaleEvent{to - from, now});
  if (to < from) h.downs.push_back(ScaleEvent{from - to, now});
}

}  // namespace shardwise::kubesim::hpa
