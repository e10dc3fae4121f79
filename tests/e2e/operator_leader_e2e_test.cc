// The operator deployed from manifests/ with its two replicas on the local cluster: both
// become Ready once their caches synced (`kubectl rollout status` returns), the Lease
// holder labels its own pod shardwise.io/leader=true and the operator Service's
// EndpointSlice lists exactly that pod; deleting the leader's pod moves the lease, the
// label and the Service's endpoint to the other replica, with LeaderElection Events.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/e2e/fleet.h"
#include "tests/e2e/local_cluster.h"

namespace shardwise::testing {
namespace {

constexpr char kNs[] = "shardwise-system";

class OperatorLeaderE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start().ok()) << cluster_.SimLog();
    Status deployed = ApplyCrds(cluster_);
    ASSERT_TRUE(deployed.ok()) << deployed.ToString();
    deployed = ApplyOperator(cluster_);
    ASSERT_TRUE(deployed.ok()) << deployed.ToString();
  }

  std::string Holder() const {
    return cluster_.JsonPath("lease shardwise-operator", ".spec.holderIdentity", kNs);
  }
  // Names of the pods carrying the leader label, space-separated.
  std::string Labelled() const {
    return cluster_.JsonPath("pods -l shardwise.io/leader=true", ".items[*].metadata.name", kNs);
  }
  // The pods the operator Service's EndpointSlices list, space-separated.
  std::string ServiceEndpoints() const {
    return cluster_.JsonPath("endpointslices -l kubernetes.io/service-name=shardwise-operator",
                             ".items[*].endpoints[*].targetRef.name", kNs);
  }
  // The leader when the lease holder's pod, and only it, is labelled and is the Service's
  // only endpoint; "" otherwise.
  std::string ConvergedLeader() const {
    std::string holder = Holder();
    if (holder.empty() || Labelled() != holder || ServiceEndpoints() != holder) return "";
    return holder;
  }
  std::vector<std::string> LeaderElectionEvents() const {
    CommandResult r = cluster_.Kubectl({"get", "events", "-n", kNs, "-o", "json"});
    std::vector<std::string> out;
    if (r.exit_code != 0) return out;
    auto list = nlohmann::json::parse(r.out, nullptr, false);
    if (!list.is_object()) return out;
    for (const auto& e : list.value("items", nlohmann::json::array())) {
      if (e.value("reason", "") == "LeaderElection" &&
          e["involvedObject"].value("kind", "") == "Lease")
        out.push_back(e.value("message", ""));
    }
    return out;
  }
  bool RolledOut() const {
    return cluster_
               .Kubectl(
                   {"rollout", "status", "deploy/shardwise-operator", "-n", kNs, "--timeout=90s"},
                   std::chrono::seconds(100))
               .exit_code == 0;
  }

  LocalCluster cluster_;
};

TEST_F(OperatorLeaderE2ETest, BothReplicasReadyAndTheServiceFollowsTheLeader) {
  ASSERT_TRUE(RolledOut()) << cluster_.Kubectl({"get", "pods", "-n", kNs, "-o", "wide"}).out
                           << cluster_.SimLog();
  EXPECT_EQ(cluster_.JsonPath("deploy/shardwise-operator", ".status.readyReplicas", kNs), "2");
  EXPECT_EQ(cluster_.JsonPath("deploy/shardwise-operator", ".status.availableReplicas", kNs), "2");

  std::string leader;
  ASSERT_TRUE(
      WaitFor([&] { return !(leader = ConvergedLeader()).empty(); }, std::chrono::seconds(60)))
      << "holder=" << Holder() << " labelled=" << Labelled() << " endpoints=" << ServiceEndpoints();
  EXPECT_TRUE(WaitFor(
      [&] {
        auto events = LeaderElectionEvents();
        return std::find(events.begin(), events.end(), leader + " became leader") != events.end();
      },
      std::chrono::seconds(30)));

  CommandResult del = cluster_.Kubectl({"delete", "pod", leader, "-n", kNs, "--wait=false"});
  ASSERT_EQ(del.exit_code, 0) << del.Describe();
  // The other replica takes the released lease; the label and the Service follow.
  std::string next;
  ASSERT_TRUE(WaitFor(
      [&] {
        next = ConvergedLeader();
        return !next.empty() && next != leader;
      },
      std::chrono::seconds(60)))
      << "holder=" << Holder() << " labelled=" << Labelled() << " endpoints=" << ServiceEndpoints();
  EXPECT_TRUE(WaitFor(
      [&] {
        auto events = LeaderElectionEvents();
        auto has = [&](const std::string& m) {
          return std::find(events.begin(), events.end(), m) != events.end();
        };
        return has(leader + " stopped leading") && has(next + " became leader");
      },
      std::chrono::seconds(30)))
      << ::testing::PrintToString(LeaderElectionEvents());
  // The replacement pod joins as a Ready standby, unlabelled. (rollout status alone could
  // still see the status from before the deletion.)
  EXPECT_TRUE(cluster_.WaitForJsonPath("deploy/shardwise-operator", ".status.readyReplicas", "2",
                                       kNs, std::chrono::seconds(60)));
  EXPECT_TRUE(RolledOut());
  EXPECT_EQ(ConvergedLeader(), next);
}

}  // namespace
}  // namespace shardwise::testing
