#include "operator/discovery/role_labels.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/relabel/parse.h"

namespace shardwise::opdiscovery {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = Monitor::Kind;
using Role = ServiceDiscoveryRole;

TEST(RoleLabelsTest, EachRoleItsOwnLabels) {
  EXPECT_TRUE(RoleHasMetaLabel(Kind::kServiceMonitor, Role::kEndpoints,
                               "__meta_kubernetes_endpoint_ready"));
  EXPECT_TRUE(RoleHasMetaLabel(Kind::kServiceMonitor, Role::kEndpoints,
                               "__meta_kubernetes_endpoints_label_app"));
  EXPECT_FALSE(RoleHasMetaLabel(Kind::kServiceMonitor, Role::kEndpoints,
                                "__meta_kubernetes_endpointslice_port_name"));
  EXPECT_FALSE(RoleHasMetaLabel(Kind::kServiceMonitor, Role::kEndpointSlice,
                                "__meta_kubernetes_endpoint_ready"));
  EXPECT_FALSE(RoleHasMetaLabel(Kind::kServiceMonitor, Role::kEndpointSlice,
                                "__meta_kubernetes_endpoints_name"));
  EXPECT_TRUE(RoleHasMetaLabel(Kind::kServiceMonitor, Role::kEndpointSlice,
                               "__meta_kubernetes_endpointslice_endpoint_conditions_ready"));
  for (Role role : {Role::kEndpoints, Role::kEndpointSlice}) {
    EXPECT_TRUE(RoleHasMetaLabel(Kind::kServiceMonitor, role, "__meta_kubernetes_namespace"));
    EXPECT_TRUE(RoleHasMetaLabel(Kind::kServiceMonitor, role, "__meta_kubernetes_pod_name"));
    EXPECT_TRUE(RoleHasMetaLabel(Kind::kServiceMonitor, role, "__meta_kubernetes_service_name"));
    EXPECT_FALSE(RoleHasMetaLabel(Kind::kServiceMonitor, role, "__meta_kubernetes_node_name"));
    EXPECT_TRUE(RoleHasMetaLabel(Kind::kServiceMonitor, role, "__address__"));
  }
  EXPECT_FALSE(
      RoleHasMetaLabel(Kind::kPodMonitor, Role::kEndpoints, "__meta_kubernetes_service_name"));
  EXPECT_TRUE(RoleHasMetaLabel(Kind::kPodMonitor, Role::kEndpoints, "__meta_kubernetes_pod_ip"));
}

TEST(RoleLabelsTest, NamesTheRelabelingThatReadsAMissingLabel) {
  Monitor m;
  m.kind = Kind::kServiceMonitor;
  MonitorEndpoint ep;
  ep.relabelings = relabel::ParseYaml(R"(
- {source_labels: [__meta_kubernetes_endpoint_ready], regex: 'true', action: keep}
- {source_labels: [__meta_kubernetes_pod_name], target_label: pod}
- {regex: '__meta_kubernetes_endpoints_label_(.+)', action: labelmap}
)")
                       .value();
  m.endpoints.push_back(ep);
  EXPECT_TRUE(MetaLabelsOutsideRole(m, Role::kEndpoints).empty());
  auto got = MetaLabelsOutsideRole(m, Role::kEndpointSlice);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_THAT(got[0], HasSubstr("endpoints[0].relabelings[0]: __meta_kubernetes_endpoint_ready "
                                "is not produced by the EndpointSlice role"));
  EXPECT_THAT(got[1], HasSubstr("endpoints[0].relabelings[2]: "
                                "__meta_kubernetes_endpoints_label_"));
}

}  // namespace
}  // namespace shardwise::opdiscovery
