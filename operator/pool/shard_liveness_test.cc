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
  s.pod_was_ready = true;  // NotReady after having been Ready
  s.reported_generation = 7;
  s.pod->at("status")["conditions"][1]["status"] = "False";
  EXPECT_EQ(JudgeReplica(s, kNow, kTimeout).reason, "PodNotReady");
  EXPECT_FALSE(JudgeReplica(s, kNow, kTimeout).alive);

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

// A pod the kubelet has not probed Ready yet, whose scraper already runs its plan.
ReplicaSignals Starting(uint64_t reported_generation, uint64_t recent_generation) {
  ReplicaSignals s = Reporting(seconds(1));
  s.pod->at("status")["conditions"][1]["status"] = "False";
  s.pod->at("status")["startTime"] = "2026-12-07T17:00:00Z";
  s.pod->at("status")["conditions"][1]["lastTransitionTime"] = "2026-12-07T17:00:01Z";
  s.reported_generation = reported_generation;
  s.recent_generation = recent_generation;
  return s;
}

TEST(ShardLivenessTest, AStartingPodWhoseScraperReportsARecentPlanIsAlive) {
  for (uint64_t recent : {uint64_t{0}, uint64_t{7}, uint64_t{5}}) {
    Liveness l = JudgeReplica(Starting(7, recent), kNow, kTimeout);
    EXPECT_TRUE(l.alive) << recent;
    EXPECT_TRUE(l.reporting);
    EXPECT_EQ(l.reason, "PodStarting");
    EXPECT_NE(l.message.find("plan generation 7"), std::string::npos) << l.message;
  }
}

TEST(ShardLivenessTest, AStartingPodIsDownWhenItsScraperRunsNoRecentPlan) {
  Liveness l = JudgeReplica(Starting(5, 7), kNow, kTimeout);  // stuck on an old plan
  EXPECT_FALSE(l.alive);
  EXPECT_EQ(l.reason, "PodNotReady");
  EXPECT_NE(l.message.find("plan generation 5, not one sent within the last 20s"),
            std::string::npos)
      << l.message;
  // No plan applied yet: alive for one timeout from when it was expected, then down.
  ReplicaSignals s = Starting(0, 0);
  s.expected_since = kNow - seconds(5);
  EXPECT_TRUE(JudgeReplica(s, kNow, kTimeout).alive);
  EXPECT_EQ(JudgeReplica(s, kNow, kTimeout).reason, "PodStarting");
  s.expected_since = kNow - seconds(20);
  EXPECT_FALSE(JudgeReplica(s, kNow, kTimeout).alive);
  EXPECT_NE(JudgeReplica(s, kNow, kTimeout).message.find("reports no plan"), std::string::npos);
}

TEST(ShardLivenessTest, AStartingPodNotReportingIsJudgedByItsHeartbeats) {
  ReplicaSignals s = Starting(7, 0);
  s.last_report.reset();  // not heard from yet: like any new replica, for one timeout
  s.expected_since = kNow - seconds(5);
  EXPECT_EQ(JudgeReplica(s, kNow, kTimeout).reason, "AwaitingFirstReport");
  EXPECT_TRUE(JudgeReplica(s, kNow, kTimeout).alive);
  s.expected_since = kNow - seconds(20);
  EXPECT_EQ(JudgeReplica(s, kNow, kTimeout).reason, "NeverReported");
  s = Starting(7, 0);
  s.last_report = kNow - seconds(20);  // it reported, then stopped
  EXPECT_EQ(JudgeReplica(s, kNow, kTimeout).reason, "NoHeartbeat");
}

// Whether a NotReady pod was Ready before is the operator's memory (pod_was_ready), never
// guessed from the pod's condition times: a kubelet may write the first status late.
TEST(ShardLivenessTest, NotReadyAfterReadyIsDownAtOnceOnlyWhenRemembered) {
  ReplicaSignals s = Starting(7, 0);
  s.pod->at("status")["conditions"][1]["lastTransitionTime"] = "2026-12-07T17:03:00Z";
  EXPECT_EQ(JudgeReplica(s, kNow, kTimeout).reason, "PodStarting");
  EXPECT_TRUE(JudgeReplica(s, kNow, kTimeout).alive);
  s.pod_was_ready = true;
  Liveness l = JudgeReplica(s, kNow, kTimeout);
  EXPECT_FALSE(l.alive);
  EXPECT_EQ(l.reason, "PodNotReady");
  EXPECT_TRUE(PodIsReady(ReadyPod()));
  EXPECT_FALSE(PodIsReady(*s.pod));
  EXPECT_FALSE(PodIsReady(json{{"metadata", {{"name", "new"}}}}));  // no status yet
}

// The memory kept in a ScrapeShard's status for the next operator process.
TEST(ShardLivenessTest, ReadyPodsRoundTripThroughTheShardStatus) {
  const std::map<std::string, std::string> seen = {
      {"main-0-0", "uid-a"}, {"main-0-1", "uid-b"}, {"other-0-0", "uid-c"}};
  const json status = ReadyPodsStatus(seen, {"main-0-1", "main-0-0", "main-0-2"});
  EXPECT_EQ(status, json::parse(R"([{"name": "main-0-1", "uid": "uid-b"},
                                    {"name": "main-0-0", "uid": "uid-a"}])"));
  std::map<std::string, std::string> read = {{"main-0-0", "uid-newer"}};
  ReadReadyPods({{"status", {{"readyPods", status}}}}, &read);
  EXPECT_EQ(read,
            (std::map<std::string, std::string>{{"main-0-0", "uid-newer"}, {"main-0-1", "uid-b"}}));
  // Malformed or absent: nothing read, no crash.
  for (json shard : {json(nullptr), json{{"status", 7}}, json{{"status", {{"readyPods", "x"}}}},
                     json{{"status", {{"readyPods", {1, json::array(), {{"name", 2}}}}}}},
                     json{{"status", {{"readyPods", {{{"name", "p"}}}}}}}}) {
    std::map<std::string, std::string> none;
    ReadReadyPods(shard, &none);
    EXPECT_TRUE(none.empty()) << shard.dump();
  }
}

TEST(ShardLivenessTest, TheShardIsAliveWhileAnyReplicaIsAndNamesTheFirstDown) {
  Liveness up = JudgeReplica(Reporting(seconds(1)), kNow, kTimeout);
  Liveness starting = JudgeReplica(Starting(7, 0), kNow, kTimeout);
  Liveness down = JudgeReplica(Reporting(seconds(30)), kNow, kTimeout);
  ShardLiveness sh = JudgeShard({up, down}, {"p-0", "p-1"});
  EXPECT_TRUE(sh.alive);
  EXPECT_TRUE(sh.reporting);
  EXPECT_EQ(sh.reason, "NoHeartbeat");
  EXPECT_EQ(sh.message.rfind("p-1: no load report", 0), 0u) << sh.message;
  sh = JudgeShard({up, starting}, {"p-0", "p-1"});
  EXPECT_TRUE(sh.alive);
  EXPECT_EQ(sh.reason, "PodStarting");
  EXPECT_EQ(sh.message.rfind("p-1: the pod is not Ready yet", 0), 0u) << sh.message;
  sh = JudgeShard({up}, {"p-0"});
  EXPECT_EQ(sh.reason, "Reporting");
  EXPECT_EQ(sh.message, "");
  sh = JudgeShard({down, down}, {"p-0", "p-1"});
  EXPECT_FALSE(sh.alive);
  EXPECT_FALSE(sh.reporting);
  EXPECT_EQ(sh.message.rfind("p-0: ", 0), 0u);
}

TEST(ShardLivenessTest, MalformedPodsAreNoSignalNotACrash) {
  ReplicaSignals s = Reporting(seconds(1));
  for (json pod : {json(nullptr), json(42), json::array(), json{{"status", "weird"}},
                   json{{"status", {{"conditions", 7}, {"containerStatuses", {1, 2}}}}},
                   json{{"status", {{"conditions", {{{"type", 1}}}}}}}}) {
    s.pod = pod;
    EXPECT_TRUE(JudgeReplica(s, kNow, kTimeout).alive) << pod.dump();
    EXPECT_FALSE(PodIsReady(pod));
    EXPECT_EQ(PodUid(pod), "");
  }
}

}  // namespace
}  // namespace shardwise::pool
