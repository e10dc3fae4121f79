#include "operator/discovery/cache_trim.h"

#include <gtest/gtest.h>

#include "operator/discovery/discover.h"
#include "operator/discovery/testing.h"

namespace shardwise::opdiscovery {
namespace {

using nlohmann::json;

// The contract: discovery over trimmed objects gives exactly the targets (ids, final and
// internal labels) it gives over the originals, for every monitor fixture.
TEST(CacheTrimTest, DiscoveryIsUnchangedByTrimming) {
  testing::Cluster full("cluster.json");
  json trimmed_objects = full.objects;
  for (auto& item : trimmed_objects["items"]) TrimForDiscovery(item);
  ClusterView trimmed;
  for (const auto& item : trimmed_objects["items"]) ASSERT_TRUE(trimmed.Add(item).ok());

  json monitors = testing::LoadJson("monitors.json");
  int compared = 0;
  for (const auto& [name, monitor] : monitors.items()) {
    DiscoveryOptions slices;
    slices.role = ServiceDiscoveryRole::kEndpointSlice;
    auto a = Discover(monitor, full.view, slices);
    auto b = Discover(monitor, trimmed, slices);
    ASSERT_EQ(a.ok(), b.ok()) << name;
    if (!a.ok()) {
      EXPECT_EQ(a.status().message(), b.status().message()) << name;
      continue;
    }
    ASSERT_EQ(a->targets.size(), b->targets.size()) << name;
    for (size_t i = 0; i < a->targets.size(); ++i) {
      EXPECT_EQ(a->targets[i].id, b->targets[i].id) << name;
      EXPECT_EQ(a->targets[i].labels, b->targets[i].labels) << name;
      EXPECT_EQ(a->targets[i].internal_labels, b->targets[i].internal_labels) << name;
    }
    ++compared;
  }
  EXPECT_GE(compared, 3);
}

TEST(CacheTrimTest, DropsBulkyFieldsOnly) {
  json pod = {
      {"metadata",
       {{"name", "p"},
        {"labels", {{"app", "web"}}},
        {"annotations",
         {{"kubectl.kubernetes.io/last-applied-configuration", "{...}"}, {"team", "a"}}},
        {"managedFields", json::array({{{"manager", "kubectl"}}})}}},
      {"spec",
       {{"nodeName", "n1"},
        {"volumes", json::array({{{"name", "v"}}})},
        {"containers", json::array({{{"name", "c"},
                                     {"image", "img"},
                                     {"env", json::array({{{"name", "SECRET"}, {"value", "x"}}})},
                                     {"ports", json::array({{{"containerPort", 8080}}})}}})}}},
      {"status", {{"phase", "Running"}, {"podIP", "10.0.0.1"}, {"qosClass", "Burstable"}}}};
  TrimForDiscovery(pod);
  EXPECT_FALSE(pod["metadata"].contains("managedFields"));
  EXPECT_FALSE(
      pod["metadata"]["annotations"].contains("kubectl.kubernetes.io/last-applied-configuration"));
  EXPECT_EQ(pod["metadata"]["annotations"]["team"], "a");
  EXPECT_FALSE(pod["spec"].contains("volumes"));
  EXPECT_FALSE(pod["spec"]["containers"][0].contains("env"));
  EXPECT_EQ(pod["spec"]["containers"][0]["ports"][0]["containerPort"], 8080);
  EXPECT_EQ(pod["spec"]["nodeName"], "n1");
  EXPECT_EQ(pod["status"]["podIP"], "10.0.0.1");
  EXPECT_FALSE(pod["status"].contains("qosClass"));
}

TEST(CacheTrimTest, EndpointsKeepSubsetsAndLabels) {
  json eps = {{"metadata",
               {{"name", "web"},
                {"labels", {{"app", "web"}}},
                {"annotations", {{"endpoints.kubernetes.io/last-change-trigger-time", "t"}}},
                {"managedFields", json::array({{{"manager", "kube-controller-manager"}}})}}},
              {"subsets", json::array({{{"addresses", json::array({{{"ip", "10.0.0.1"}}})},
                                        {"ports", json::array({{{"port", 8080}}})}}})}};
  TrimForDiscovery(eps);
  EXPECT_FALSE(eps["metadata"].contains("managedFields"));
  EXPECT_FALSE(eps["metadata"].contains("annotations"));
  EXPECT_EQ(eps["metadata"]["labels"]["app"], "web");
  EXPECT_EQ(eps["subsets"][0]["addresses"][0]["ip"], "10.0.0.1");
}

}  // namespace
}  // namespace shardwise::opdiscovery
