#include "operator/pool/shard_liveness.h"

#include "common/json_field.h"

namespace shardwise::pool {

using nlohmann::json;

namespace {

std::string Str(const json& j, const char* key) {
  const json& v = JsonField(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

}  // namespace

std::string PodDownReason(const json& pod, std::string* message) {
  if (!JsonField(JsonField(pod, "metadata"), "deletionTimestamp").is_null()) {
    *message = "the pod is terminating";
    return "PodTerminating";
  }
  const json& status = JsonField(pod, "status");
  const std::string phase = Str(status, "phase");
  if (phase == "Failed" || phase == "Succeeded") {
    *message = "the pod's phase is " + phase;
    return "PodFailed";
  }
  const json& containers = JsonField(status, "containerStatuses");
  if (containers.is_array()) {
    for (const auto& c : containers) {
      const json& terminated = JsonField(JsonField(c, "state"), "terminated");
      if (terminated.is_object()) {
        *message =
            "container " + Str(c, "name") + " terminated (" + Str(terminated, "reason") + ")";
        return "ContainerTerminated";
      }
    }
  }
  const json& conditions = JsonField(status, "conditions");
  if (conditions.is_array()) {
    for (const auto& c : conditions) {
      if (Str(c, "type") == "PodScheduled" && Str(c, "status") == "False") {
        *message = "the pod cannot be scheduled: " + Str(c, "message");
        return "PodUnschedulable";
      }
    }
    for (const auto& c : conditions) {
      if (Str(c, "type") == "Ready" && Str(c, "status") != "True") {
        *message = "the pod is not Ready";
        if (std::string m = Str(c, "message"); !m.empty()) *message += ": " + m;
        return "PodNotReady";
      }
    }
  }
  return "";
}

bool PodIsReady(const json& pod) {
  const json& conditions = JsonField(JsonField(pod, "status"), "conditions");
  if (!conditions.is_array()) return false;
  for (const auto& c : conditions) {
    if (Str(c, "type") == "Ready") return Str(c, "status") == "True";
  }
  return false;
}

json ReadyPodsStatus(const std::map<std::string, std::string>& ready,
                     const std::vector<std::string>& pod_names) {
  json out = json::array();
  for (const auto& name : pod_names) {
    if (auto it = ready.find(name); it != ready.end()) {
      out.push_back({{"name", name}, {"uid", it->second}});
    }
  }
  return out;
}

void ReadReadyPods(const json& scrape_shard, std::map<std::string, std::string>* ready) {
  const json& pods = JsonField(JsonField(scrape_shard, "status"), "readyPods");
  if (!pods.is_array()) return;
  for (const auto& p : pods) {
    const json& name = JsonField(p, "name");
    const json& uid = JsonField(p, "uid");
    if (name.is_string() && uid.is_string()) ready->emplace(name, uid);
  }
}

std::string PodUid(const json& pod) { return Str(JsonField(pod, "metadata"), "uid"); }

Liveness JudgeReplica(const ReplicaSignals& s, std::chrono::system_clock::time_point now,
                      std::chrono::milliseconds heartbeat_timeout) {
  Liveness out;
  out.reporting = s.last_report && now - *s.last_report < heartbeat_timeout;
  if (!s.pod && s.pod_seen_before) {
    out.reason = "PodDeleted";
    out.message = "the pod was deleted";
    return out;
  }
  bool starting = false;
  if (s.pod) {
    out.reason = PodDownReason(*s.pod, &out.message);
    if (out.reason == "PodNotReady" && !s.pod_was_ready) {
      starting = true;  // not Ready yet: the heartbeats decide
    } else if (!out.reason.empty()) {
      return out;
    }
    out.reason.clear();
  }
  const auto seconds =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(heartbeat_timeout).count());
  if (starting && out.reporting) {
    // Its scraper runs: alive if the plan it runs is recent, so the assigner moves targets
    // off it by handoffs only. One stuck on an old plan is no partner for a handoff.
    // One that has not applied a first plan yet scrapes nothing: like a replica never heard
    // from, it has one heartbeat_timeout from when it was expected.
    const bool first_plan_due =
        s.reported_generation == 0 && now - s.expected_since < heartbeat_timeout;
    out.alive = first_plan_due ||
                (s.reported_generation > 0 && s.reported_generation >= s.recent_generation);
    if (first_plan_due) {
      out.reason = "PodStarting";
      out.message = "the pod is not Ready yet; its scraper has not applied a plan yet";
    } else if (out.alive) {
      out.reason = "PodStarting";
      out.message = "the pod is not Ready yet; its scraper reports running plan generation " +
                    std::to_string(s.reported_generation);
    } else {
      out.reason = "PodNotReady";
      out.message =
          "the pod is not Ready yet and its scraper reports " +
          (s.reported_generation == 0 ? std::string("no plan")
                                      : "plan generation " + std::to_string(s.reported_generation) +
                                            ", not one sent within the last " + seconds + "s");
    }
    return out;
  }
  if (s.last_report) {
    out.alive = out.reporting;
    out.reason = out.alive ? "Reporting" : "NoHeartbeat";
    if (!out.alive) out.message = "no load report for " + seconds + "s";
    return out;
  }
  out.alive = now - s.expected_since < heartbeat_timeout;
  out.reason = out.alive ? "AwaitingFirstReport" : "NeverReported";
  if (!out.alive) out.message = "no load report since the shard was expected " + seconds + "s ago";
  return out;
}

ShardLiveness JudgeShard(const std::vector<Liveness>& replicas,
                         const std::vector<std::string>& pod_names) {
  ShardLiveness out;
  const Liveness* down = nullptr;
  const Liveness* starting = nullptr;
  size_t down_at = 0, starting_at = 0;
  for (size_t r = 0; r < replicas.size(); ++r) {
    const Liveness& l = replicas[r];
    out.alive = out.alive || l.alive;
    out.reporting = out.reporting || (l.alive && l.reporting);
    if (!l.alive && down == nullptr) {
      down = &l;
      down_at = r;
    }
    if (l.alive && l.reason == "PodStarting" && starting == nullptr) {
      starting = &l;
      starting_at = r;
    }
  }
  auto named = [&](const Liveness& l, size_t r) {
    out.reason = l.reason;
    out.message = (r < pod_names.size() ? pod_names[r] + ": " : std::string()) + l.message;
  };
  if (down != nullptr) {
    named(*down, down_at);
  } else if (starting != nullptr) {
    named(*starting, starting_at);
  } else {
    out.reason = out.reporting ? "Reporting" : "AwaitingFirstReport";
  }
  return out;
}

}  // namespace shardwise::pool
