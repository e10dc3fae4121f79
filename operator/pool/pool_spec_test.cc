#include "operator/pool/pool_spec.h"

#include <gtest/gtest.h>

namespace shardwise::pool {
namespace {

using nlohmann::json;

json Pool(json spec) {
  return {{"apiVersion", "shardwise.io/v1alpha1"},
          {"kind", "ScrapePool"},
          {"metadata", {{"name", "main"}, {"namespace", "mon"}, {"uid", "u1"}, {"generation", 3}}},
          {"spec", std::move(spec)}};
}

TEST(PoolSpecTest, ParsesFields) {
  auto s =
      ParsePoolSpec(Pool({{"shards", 3},
                          {"replicasPerShard", 2},
                          {"autoscaling",
                           {{"mode", "Operator"},
                            {"minShards", 2},
                            {"maxShards", 8},
                            {"targetSeriesPerShard", 100000}}},
                          {"assignment", {{"loadFactor", 1.1}, {"handoffTimeout", "90s"}}},
                          {"scrapeDefaults", {{"interval", "15s"}, {"timeout", "5s"}}},
                          {"externalLabels", {{"cluster", "c1"}}},
                          {"remoteWrite", json::array({{{"url", "http://vm:8428/api/v1/write"}}})},
                          {"storage", {{"retention", "6h"}}}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->shards, 3);
  EXPECT_EQ(s->replicas_per_shard, 2);
  EXPECT_EQ(s->autoscaling, AutoscalingMode::kOperator);
  EXPECT_EQ(s->max_shards, 8);
  EXPECT_EQ(s->handoff_timeout.count(), 90000);
  EXPECT_EQ(s->default_interval.count(), 15000);
  EXPECT_EQ(s->external_labels.Get("cluster"), "c1");
  EXPECT_EQ(s->retention.count(), 6 * 3600 * 1000);
  EXPECT_EQ(s->generation, 3);
}

TEST(PoolSpecTest, ReportsFieldPaths) {
  auto bad_duration = ParsePoolSpec(Pool({{"scrapeDefaults", {{"interval", "soon"}}}}));
  ASSERT_FALSE(bad_duration.ok());
  EXPECT_NE(bad_duration.status().message().find("spec.scrapeDefaults.interval"),
            std::string::npos);
  auto timeout =
      ParsePoolSpec(Pool({{"scrapeDefaults", {{"interval", "10s"}, {"timeout", "20s"}}}}));
  EXPECT_NE(timeout.status().message().find("spec.scrapeDefaults.timeout"), std::string::npos);
  auto minmax = ParsePoolSpec(Pool({{"autoscaling", {{"minShards", 5}, {"maxShards", 2}}}}));
  EXPECT_NE(minmax.status().message().find("maxShards"), std::string::npos);
  auto url = ParsePoolSpec(Pool({{"remoteWrite", json::array({{{"url", "vm:8428"}}})}}));
  EXPECT_NE(url.status().message().find("spec.remoteWrite[0].url"), std::string::npos);
  auto label = ParsePoolSpec(Pool({{"externalLabels", {{"bad-name", "x"}}}}));
  EXPECT_FALSE(label.ok());
  auto role = ParsePoolSpec(Pool({{"serviceDiscoveryRole", "Endpoint"}}));
  ASSERT_FALSE(role.ok());
  EXPECT_NE(role.status().message().find("spec.serviceDiscoveryRole"), std::string::npos);
}

TEST(PoolSpecTest, ServiceDiscoveryRoleDefaultsToEndpoints) {
  auto s = ParsePoolSpec(Pool(json::object()));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->service_discovery_role, opdiscovery::ServiceDiscoveryRole::kEndpoints);
  s = ParsePoolSpec(Pool({{"serviceDiscoveryRole", "EndpointSlice"}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->service_discovery_role, opdiscovery::ServiceDiscoveryRole::kEndpointSlice);
}

TEST(PoolSpecTest, AutoscalingWindowsAndPvcRetention) {
  auto d =
      ParsePoolSpec(Pool({{"storage", {{"volumeClaimTemplate", {{"spec", json::object()}}}}}}));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->scale_up_stabilization_seconds, 60);
  EXPECT_EQ(d->scale_down_stabilization_seconds, 600);
  EXPECT_EQ(d->pvc_when_scaled, "Delete");
  EXPECT_EQ(d->pvc_when_deleted, "Retain");
  auto s = ParsePoolSpec(Pool(
      {{"autoscaling", {{"scaleUpStabilizationSeconds", 5}, {"scaleDownStabilizationSeconds", 20}}},
       {"storage", {{"persistentVolumeClaimRetentionPolicy", {{"whenScaled", "Retain"}}}}}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->scale_up_stabilization_seconds, 5);
  EXPECT_EQ(s->scale_down_stabilization_seconds, 20);
  EXPECT_EQ(s->pvc_when_scaled, "Retain");
  EXPECT_EQ(s->pvc_when_deleted, "Retain");
  auto bad = ParsePoolSpec(
      Pool({{"storage", {{"persistentVolumeClaimRetentionPolicy", {{"whenDeleted", "Keep"}}}}}}));
  EXPECT_NE(bad.status().message().find("whenDeleted"), std::string::npos);
  auto neg = ParsePoolSpec(Pool({{"autoscaling", {{"scaleUpStabilizationSeconds", -1}}}}));
  EXPECT_FALSE(neg.ok());
}

}  // namespace
}  // namespace shardwise::pool
