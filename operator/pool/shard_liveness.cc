#include "operator/pool/shard_liveness.h"

namespace shardwise::pool {

using nlohmann::json;

namespace {

const json& Field(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string Str(const json& j, const char* key) {
  const json& v = Field(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

}  // namespace

std::string PodDownReason(const json& pod, std::string* message) {
  if (!Field(Field(pod, "metadata"), "deletionTimestamp").is_null()) {
    *message = "the pod is terminating";
    return "PodTerminating";
  }
  const json& status = Field(pod, "status");
  const std::string phase = Str(status, "phase");
  if (phase == "Failed" || phase == "Succeeded") {
    *message = "the pod's phase is " + phase;
    return "PodFailed";
  }
  const json& containers = Field(status, "containerStatuses");
  if (containers.is_array()) {
    for (const auto& c : containers) {
      const json& terminated = Field(Field(c, "state"), "terminated");
      if (terminated.is_object()) {
        *message =
            "container " + Str(c, "name") + " terminated (" + Str(terminated, "reason") + ")";
        return "ContainerTerminated";
      }
    }
  }
  const json& conditions = Field(status, "conditions");
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

Liveness JudgeReplica(const ReplicaSignals& s, std::chrono::system_clock::time_point now,
                      std::chrono::milliseconds heartbeat_timeout) {
  Liveness out;
  out.reporting = s.last_report && now - *s.last_report < heartbeat_timeout;
  if (!s.pod && s.pod_seen_before) {
    out.reason = "PodDeleted";
    out.message = "the pod was deleted";
    return out;
  }
  if (s.pod) {
    out.reason = PodDownReason(*s.pod, &out.message);
    if (!out.reason.empty()) return out;
  }
  const auto seconds =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(heartbeat_timeout).count());
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

}  // namespace shardwise::pool
