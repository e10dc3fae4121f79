// When a scraper pod counts as alive: pod status first, heartbeats for what it cannot see.
#include "operator/pool/shard_liveness.h"

#include <gtest/gtest.h>

namespace shardwise::pool {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using Clock = std::chrono::system_clock;

const Clock::time_point kNow = Clock::time_point{} + std::chrono::hours(500000);
constexpr std::chrono::milliseconds kTimeout = seconds(20);

json ReadyPod() {
  return {
      {"metadata", {{"name", "shardwise-main-0-1"}}},
      {"status",
       {{"phase", "Running"},
        {"conditions",
         {{{"type", "PodScheduled"}, {"status", "True"}}, {{"type", "Ready"}, {"status", "True"}}}},
        {"containerStatuses",
         {{{"name", "scraper"}, {"ready", true}, {"state", {{"running", json::object()}}}}}}}}};
}

ReplicaSignals Reporting(seconds ago) {
  ReplicaSignals s;
  s.pod = ReadyPod();
  s.pod_seen_before = true;
  s.last_report = kNow - ago;
  s.expected_since = kNow - std::chrono::hours(1);
  return s;
}

TEST(ShardLivenessTest, ReadyAndReportingIsAlive) {
  Liveness l = JudgeReplica(Reporting(seconds(3)), kNow, kTimeout);
  EXPECT_TRUE(l.alive);
  EXPECT_TRUE(l.reporting);
  EXPECT_EQ(l.reason, "Reporting");
}

TEST(ShardLivenessTest, PodSignalsMarkDownAtOnceDespiteFreshReports) {
  ReplicaSignals s = Reporting(seconds(1));
  s.pod->at("status")["containerStatuses"][0]["state"] = {
      {"terminated", {{"reason", "Error"}, {"exitCode", 137}}}};
  EXPECT_EQ(JudgeReplica(s, kNow, kTimeout).reason, "ContainerTerminated");
  EXPECT_FALSE(JudgeReplica(s, kNow, kTimeout).alive);

  s = Reporting(seconds(1));
  s.pod->at("status")["conditions"][1]["status"] = "False";
  EXPECT_EQ(JudgeReplica(s, kNow, kTimeout).reason, "PodNotReady");

  s = Reporting(seconds(1));
  s.pod->at("metadata")["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  EXPECT_EQ(JudgeReplica(s, kNow, kTimeout).reason, "PodTerminating");

  s = Reporting(seconds(1));
  s.pod.reset();  // seen before, gone now
  EXPECT_EQ(JudgeReplica(s, kNow, kTimeout).reason, "PodDeleted");

  s = Reporting(seconds(1));
  s.pod->at("status") = {{"phase", "Pending"},
                         {"conditions",
                          {{{"type", "PodScheduled"},
                            {"status", "False"},
                            {"message", "0/3 nodes match the node selector"}}}}};
  Liveness l = JudgeReplica(s, kNow, kTimeout);
  EXPECT_EQ(l.reason, "PodUnschedulable");
  EXPECT_NE(l.message.find("node selector"), std::string::npos);
}

TEST(ShardLivenessTest, HeartbeatsCatchWhatThePodDoesNotShow) {
  // A partition: the pod looks fine, the reports stopped.
  Liveness l = JudgeReplica(Reporting(seconds(20)), kNow, kTimeout);
  EXPECT_FALSE(l.alive);
  EXPECT_EQ(l.reason, "NoHeartbeat");
  // Scrapers outside Kubernetes (no pod at all, never seen): heartbeats alone decide.
  ReplicaSignals s = Reporting(seconds(19));
  s.pod.reset();
  s.pod_seen_before = false;
  EXPECT_TRUE(JudgeReplica(s, kNow, kTimeout).alive);
  // A pod without status (no kubelet) gives no signal either.
  s.pod = json{{"metadata", {{"name", "x"}}}, {"status", {{"phase", "Pending"}}}};
  EXPECT_TRUE(JudgeReplica(s, kNow, kTimeout).alive);
}

TEST(ShardLivenessTest, NeverHeardFromIsDownAfterTheTimeout) {
  ReplicaSignals s;
  s.expected_since = kNow - seconds(5);
  Liveness l = JudgeReplica(s, kNow, kTimeout);
  EXPECT_TRUE(l.alive);
  EXPECT_FALSE(l.reporting);
  EXPECT_EQ(l.reason, "AwaitingFirstReport");
  s.expected_since = kNow - seconds(20);
  l = JudgeReplica(s, kNow, kTimeout);
  EXPECT_FALSE(l.alive);
  EXPECT_EQ(l.reason, "NeverReported");
}

TEST(ShardLivenessTest, MalformedPodsAreNoSignalNotACrash) {
  ReplicaSignals s = Reporting(seconds(1));
  for (json pod : {json(nullptr), json(42), json::array(), json{{"status", "weird"}},
                   json{{"status", {{"conditions", 7}, {"containerStatuses", {1, 2}}}}},
                   json{{"status", {{"conditions", {{{"type", 1}}}}}}}}) {
    s.pod = pod;
    EXPECT_TRUE(JudgeReplica(s, kNow, kTimeout).alive) << pod.dump();
  }
}

}  // namespace
}  // namespace shardwise::pool
