#include "operator/autoscale/recommender.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace shardwise::autoscale {
namespace {

using std::chrono::duration;
using std::chrono::seconds;

// ceil that forgives floating-point dust (4.0000000001 shards is 4).
int CeilShards(double v) { return static_cast<int>(std::ceil(v - 1e-9)); }

std::string Percent(double ratio) {
  return std::to_string(static_cast<int>(std::lround(ratio * 100))) + "%";
}

std::string Seconds(seconds s) { return std::to_string(s.count()) + "s"; }

}  // namespace

std::string HumanCount(double v) {
  static const char* kUnits[] = {"", "k", "M", "G", "T"};
  double scaled = std::fabs(v);
  int unit = 0;
  // Step up while the value would print as 1000 or more with three significant digits.
  while (scaled >= 999.5 && unit < 4) {
    scaled /= 1000;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", scaled);
  return std::string(v < 0 ? "-" : "") + buf + kUnits[unit];
}

std::string Counted(long long n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

Recommender::Recommender(Policy policy) : policy_(std::move(policy)) {}

void Recommender::SetPolicy(const Policy& policy) { policy_ = policy; }

int Recommender::LoadShards(double load, double target, int current) const {
  int up = std::max(1, CeilShards(load / target));
  if (up > current) return up;
  int down = std::max(1, CeilShards(load / (target * policy_.scale_in_fraction)));
  return std::min(down, current);
}

// Least squares over the recent points; the value expected `lookahead` after `now` when the
// line fits (r² ≥ min_trend_r2) and rises, else nullopt.
std::optional<double> Recommender::Projected(double Point::*field, const Point& now,
                                             double* slope_out) const {
  if (points_.size() < 4) return std::nullopt;
  const double span = duration<double>(now.at - points_.front().at).count();
  if (span < duration<double>(policy_.trend_window).count() / 2) return std::nullopt;
  double n = 0, sx = 0, sy = 0;
  for (const Point& p : points_) {
    sx += duration<double>(p.at - now.at).count();
    sy += p.*field;
    ++n;
  }
  const double mx = sx / n, my = sy / n;
  double sxx = 0, sxy = 0, syy = 0;
  for (const Point& p : points_) {
    double dx = duration<double>(p.at - now.at).count() - mx;
    double dy = p.*field - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx <= 0 || syy <= 0) return std::nullopt;
  const double slope = sxy / sxx;
  const double r2 = (sxy * sxy) / (sxx * syy);
  if (slope <= 0 || r2 < policy_.min_trend_r2) return std::nullopt;
  *slope_out = slope;
  const double lookahead =
      duration<double>(policy_.scale_up_window + policy_.shard_startup).count();
  // From the fitted line at "now", not the last point, so one noisy point does not jump it.
  return my + slope * (0 - mx) + slope * lookahead;
}

void Recommender::Prune(Clock::time_point now) {
  while (!points_.empty() && points_.front().at < now - policy_.trend_window) points_.pop_front();
  // Keep the newest instant at or before the longest window's start: it says what held then.
  const auto keep_from = now - std::max(policy_.scale_up_window, policy_.scale_down_window);
  while (instants_.size() >= 2 && instants_[1].at <= keep_from) instants_.pop_front();
  while (shard_history_.size() > 3) shard_history_.pop_front();
}

Recommendation Recommender::Observe(const Observation& obs) {
  Recommendation r;
  const int current = std::max(1, obs.current_shards);
  const int lo = std::max(1, policy_.min_shards);
  const int hi = policy_.max_shards > 0 ? std::max(lo, policy_.max_shards) : 0;
  auto clamp = [&](int n) { return std::max(lo, hi > 0 ? std::min(hi, n) : n); };
  r.desired = r.instant = clamp(current);
  if (r.desired != current) {  // outside the bounds (edited): move at once
    r.reason = r.desired > current ? "below minShards " + std::to_string(lo)
                                   : "above maxShards " + std::to_string(hi);
  }
  if (!instants_.empty() && obs.at < instants_.back().at) {
    r.held = "observation older than the previous one";
    return r;
  }
  if (obs.shards.empty()) {
    if (r.reason.empty()) r.reason = "no shard has reported load yet";
    return r;
  }

  points_.push_back({obs.at, obs.series, obs.samples_per_second});
  shard_history_.push_back(obs.shards);
  Prune(obs.at);

  // 1–3: the instant recommendation, the largest of every criterion, with its figures.
  int best = 0;
  std::string why;
  auto consider = [&](int n, std::string reason) {
    if (n > best || best == 0) {
      best = n;
      why = std::move(reason);
    }
  };
  auto load_criterion = [&](double load, double target, const char* what) {
    if (target <= 0) return;
    int n = LoadShards(load, target, current);
    std::string figures = HumanCount(load) + " " + what;
    if (n > current) {
      consider(n, figures + " over a target of " + HumanCount(target) + " per shard");
    } else if (n < current) {
      consider(n, figures + " fit " + std::to_string(n) + " shards at " +
                      Percent(policy_.scale_in_fraction) + " of the target of " +
                      HumanCount(target) + " per shard");
    } else {
      consider(n, figures + " within the target of " + HumanCount(target) + " per shard");
    }
    double slope = 0;
    double Point::*field =
        std::string_view(what) == "series" ? &Point::series : &Point::samples_per_second;
    if (auto projected = Projected(field, points_.back(), &slope)) {
      int ahead = std::max(1, CeilShards(*projected / target));
      if (ahead > n && ahead > current) {
        consider(ahead, std::string(what) + " growing " + HumanCount(slope * 60) +
                            "/min: " + HumanCount(*projected) + " expected within " +
                            Seconds(policy_.scale_up_window + policy_.shard_startup) +
                            ", over a target of " + HumanCount(target) + " per shard");
      }
    }
  };
  load_criterion(obs.series, policy_.target_series, "series");
  load_criterion(obs.samples_per_second, policy_.target_samples_per_second, "samples/s");

  double max_util = 0;  // of shards that more shards can relieve
  std::vector<int> memory_pressed;
  for (const ShardLoad& s : obs.shards) {
    const std::string shard = "shard " + std::to_string(s.index);
    if (policy_.target_series > 0 && s.largest_target_series > policy_.target_series) {
      r.too_large = "a target of " + shard + " has " + HumanCount(s.largest_target_series) +
                    " series, more than the target of " + HumanCount(policy_.target_series) +
                    " per shard; more shards cannot split it";
      continue;
    }
    double sat = policy_.saturation_threshold > 0 ? s.saturation / policy_.saturation_threshold : 0;
    double mem = s.memory_limit_bytes > 0 && policy_.memory_threshold > 0
                     ? s.memory_bytes / s.memory_limit_bytes / policy_.memory_threshold
                     : 0;
    max_util = std::max({max_util, sat, mem});
    if (sat > 1) {
      consider(CeilShards(current * sat), shard + " saturated: scrape budget " +
                                              Percent(s.saturation) + " used (threshold " +
                                              Percent(policy_.saturation_threshold) + ")");
    }
    if (mem > 1) {
      // Relative to the count when the pressure began: a scraper's memory does not fall
      // when targets move away (its head keeps their series until compaction), so scaling
      // relative to the current count would add shards every window up to maxShards.
      int base = memory_pressure_count_.emplace(s.index, current).first->second;
      memory_pressed.push_back(s.index);
      consider(CeilShards(base * mem),
               shard + " memory at " + Percent(s.memory_bytes / s.memory_limit_bytes) +
                   " of its limit (threshold " + Percent(policy_.memory_threshold) + ")");
    }
    if (s.skipped_ticks > 0) {
      consider(current + 1, shard + " skipped " + std::to_string(s.skipped_ticks) +
                                " scrape ticks (scrapes outlast their interval)");
    }
    if (shard_history_.size() == 3 && s.remote_write_lag_seconds > policy_.lag_floor_seconds) {
      bool growing = true;
      double prev = -1;
      for (const auto& past : shard_history_) {
        auto it = std::find_if(past.begin(), past.end(),
                               [&](const ShardLoad& p) { return p.index == s.index; });
        if (it == past.end() || it->remote_write_lag_seconds <= prev) growing = false;
        if (it != past.end()) prev = it->remote_write_lag_seconds;
      }
      if (growing) {
        consider(current + 1, shard + " remote-write lag growing: " +
                                  HumanCount(s.remote_write_lag_seconds) + "s");
      }
    }
  }
  std::erase_if(memory_pressure_count_, [&](const auto& entry) {
    return std::find(memory_pressed.begin(), memory_pressed.end(), entry.first) ==
           memory_pressed.end();
  });
  if (best == 0) {
    best = current;
    why = "no load target set";
  }
  // Shrinking must also leave the busiest shard's utilisation inside the dead band.
  if (best < current && max_util > 0) {
    int floor = std::min(current, CeilShards(current * max_util / policy_.scale_in_fraction));
    if (floor > best) {
      best = floor;
      why += "; utilisation " + Percent(max_util * policy_.saturation_threshold) +
             " of the scrape budget keeps " + std::to_string(floor) + " shards";
    }
  }
  r.instant = clamp(best);
  r.reason = why;
  if (r.instant != best) {
    r.reason += r.instant < best ? " (capped at maxShards " + std::to_string(hi) + ")"
                                 : " (raised to minShards " + std::to_string(lo) + ")";
  }

  // 4. Stabilization over the instant history.
  const bool blocked = obs.handoff_in_flight || obs.shard_lost;
  instants_.push_back({obs.at, r.instant, blocked});
  if (r.desired != current) return r;  // out of bounds: already moving
  auto held_for = [&](seconds window, auto pred, int* pick, bool up) {
    const auto start = obs.at - window;
    bool covered = window.count() == 0;
    *pick = r.instant;
    for (auto it = instants_.rbegin(); it != instants_.rend(); ++it) {
      if (!pred(*it)) return false;
      *pick = up ? std::min(*pick, it->shards) : std::max(*pick, it->shards);
      if (it->at <= start) {
        covered = true;
        break;
      }
    }
    return covered;
  };
  int pick = current;
  if (r.instant > current) {
    if (held_for(
            policy_.scale_up_window, [&](const Instant& i) { return i.shards > current; }, &pick,
            true)) {
      r.desired = pick;
    } else {
      r.held = "scale-up to " + std::to_string(r.instant) + " waits for the " +
               Seconds(policy_.scale_up_window) + " stabilization window";
    }
  } else if (r.instant < current) {
    if (blocked) {
      r.held = obs.shard_lost ? "no scale-down while a shard is Lost"
                              : "no scale-down while a handoff is in flight";
    } else if (held_for(
                   policy_.scale_down_window,
                   [&](const Instant& i) { return i.shards < current && !i.blocked; }, &pick,
                   false)) {
      r.desired = pick;
    } else {
      r.held = "scale-down to " + std::to_string(r.instant) + " waits for the " +
               Seconds(policy_.scale_down_window) + " stabilization window";
    }
  }
  return r;
}

}  // namespace shardwise::autoscale
