#include "hack/kube-sim/scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace shardwise::kubesim {
namespace {

using ::testing::HasSubstr;

json Node(const std::string& name, const std::string& zone, const std::string& cpu = "4",
          bool ready = true) {
  return {{"metadata",
           {{"name", name},
            {"labels", {{"kubernetes.io/hostname", name}, {"topology.kubernetes.io/zone", zone}}}}},
          {"status",
           {{"allocatable", {{"cpu", cpu}, {"memory", "8Gi"}, {"pods", "110"}}},
            {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}};
}

json Pod(const std::string& name, const json& labels = json::object(),
         const json& spec_extra = {}) {
  json pod = {{"metadata", {{"name", name}, {"namespace", "default"}, {"labels", labels}}},
              {"spec", {{"containers", {{{"name", "c"}, {"image", "x"}}}}}}};
  if (spec_extra.is_object())
    for (auto& [k, v] : spec_extra.items()) pod["spec"][k] = v;
  return pod;
}

json Bound(json pod, const std::string& node) {
  pod["spec"]["nodeName"] = node;
  return pod;
}

json AntiAffinity(const std::string& app, const std::string& key) {
  return {{"affinity",
           {{"podAntiAffinity",
             {{"requiredDuringSchedulingIgnoredDuringExecution",
               {{{"labelSelector", {{"matchLabels", {{"app", app}}}}}, {"topologyKey", key}}}}}}}}};
}

TEST(SchedulerTest, SpreadsOverTheLeastLoadedReadyNode) {
  std::vector<json> nodes = {Node("a", "z1"), Node("b", "z2"), Node("c", "z3", "4", false)};
  std::vector<json> bound = {Bound(Pod("p1"), "a")};
  EXPECT_EQ(SchedulePod(Pod("p2"), nodes, bound).node, "b");
}

TEST(SchedulerTest, HonoursNodeSelector) {
  std::vector<json> nodes = {Node("a", "z1"), Node("b", "z2")};
  json pod = Pod("p", {}, {{"nodeSelector", {{"topology.kubernetes.io/zone", "z2"}}}});
  EXPECT_EQ(SchedulePod(pod, nodes, {}).node, "b");
  pod = Pod("p", {}, {{"nodeSelector", {{"disk", "ssd"}}}});
  ScheduleDecision d = SchedulePod(pod, nodes, {});
  EXPECT_EQ(d.node, "");
  EXPECT_THAT(
      d.message,
      HasSubstr("0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."));
}

TEST(SchedulerTest, ResourceRequestsAgainstAllocatable) {
  std::vector<json> nodes = {Node("a", "z1", "1")};
  json big =
      Pod("big", {},
          {{"containers", {{{"name", "c"}, {"resources", {{"requests", {{"cpu", "600m"}}}}}}}}});
  std::vector<json> bound = {Bound(big, "a")};
  json next = big;
  next["metadata"]["name"] = "next";
  ScheduleDecision d = SchedulePod(next, nodes, bound);
  EXPECT_EQ(d.node, "");
  EXPECT_THAT(d.message, HasSubstr("1 Insufficient cpu"));
  json small =
      Pod("small", {},
          {{"containers", {{{"name", "c"}, {"resources", {{"limits", {{"cpu", "400m"}}}}}}}}});
  EXPECT_EQ(SchedulePod(small, nodes, bound).node, "a");
}

TEST(SchedulerTest, RequiredAntiAffinityPerHostnameAndZone) {
  std::vector<json> nodes = {Node("a", "z1"), Node("b", "z1"), Node("c", "z2")};
  json web = Pod("w", {{"app", "web"}}, AntiAffinity("web", "kubernetes.io/hostname"));
  std::vector<json> bound = {Bound(web, "a"), Bound(web, "b"), Bound(web, "c")};
  ScheduleDecision d = SchedulePod(web, nodes, bound);
  EXPECT_EQ(d.node, "");
  EXPECT_THAT(
      d.message,
      HasSubstr("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."));

  json zonal = Pod("z", {{"app", "db"}}, AntiAffinity("db", "topology.kubernetes.io/zone"));
  bound = {Bound(zonal, "a")};
  EXPECT_EQ(SchedulePod(zonal, nodes, bound).node, "c");
  // The placed pod's own term keeps a matching newcomer away too.
  json plain = Pod("p", {{"app", "db"}});
  bound = {Bound(zonal, "a"), Bound(Pod("x"), "c"), Bound(Pod("y"), "c")};
  EXPECT_EQ(SchedulePod(plain, nodes, bound).node, "c");
}

}  // namespace
}  // namespace shardwise::kubesim
