#include "operator/discovery/generated_relabelings.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/relabel/parse.h"
#include "operator/discovery/testing.h"

namespace shardwise::opdiscovery {
namespace {

Monitor MustParse(const char* name) {
  auto monitors = testing::LoadJson("monitors.json");
  auto m = ParseMonitor(monitors[name]);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : Monitor{};
}

std::vector<relabel::RelabelConfig> MustYaml(const char* yaml) {
  auto c = relabel::ParseYaml(yaml);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : std::vector<relabel::RelabelConfig>{};
}

// Written out from generateServiceMonitorConfig in the Prometheus Operator's promcfg.go
// (endpointslice role, sharding rules left out) for testdata/monitors.json "web", endpoint 0.
TEST(GeneratedRelabelingsTest, ServiceMonitorEndpoint) {
  auto got = GeneratedRelabelings(MustParse("web"), 0, ServiceDiscoveryRole::kEndpointSlice);
  auto want = MustYaml(R"(
- {source_labels: [job], target_label: __tmp_prometheus_job_name}
- {action: keep, source_labels: [__meta_kubernetes_service_label_app, __meta_kubernetes_service_labelpresent_app], regex: (web);true}
- {action: keep, source_labels: [__meta_kubernetes_endpointslice_port_name], regex: http-metrics}
- {source_labels: [__meta_kubernetes_endpointslice_address_target_kind, __meta_kubernetes_endpointslice_address_target_name], separator: ';', regex: Node;(.*), replacement: '${1}', target_label: node}
- {source_labels: [__meta_kubernetes_endpointslice_address_target_kind, __meta_kubernetes_endpointslice_address_target_name], separator: ';', regex: Pod;(.*), replacement: '${1}', target_label: pod}
- {source_labels: [__meta_kubernetes_namespace], target_label: namespace}
- {source_labels: [__meta_kubernetes_service_name], target_label: service}
- {source_labels: [__meta_kubernetes_pod_name], target_label: pod}
- {source_labels: [__meta_kubernetes_pod_container_name], target_label: container}
- {action: drop, source_labels: [__meta_kubernetes_pod_phase], regex: (Failed|Succeeded)}
- {source_labels: [__meta_kubernetes_service_label_tier], target_label: tier, regex: (.+), replacement: '${1}'}
- {source_labels: [__meta_kubernetes_pod_label_version], target_label: version, regex: (.+), replacement: '${1}'}
- {source_labels: [__meta_kubernetes_service_name], target_label: job, replacement: '${1}'}
- {target_label: endpoint, replacement: http-metrics}
- {source_labels: [__meta_kubernetes_pod_node_name], target_label: node_name}
)");
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], want[i]) << "rule " << i;
}

// The endpoints role (the operator's default): the same rules, reading the endpoints role's
// port name and address target labels.
TEST(GeneratedRelabelingsTest, ServiceMonitorEndpointsRole) {
  auto slice = GeneratedRelabelings(MustParse("web"), 0, ServiceDiscoveryRole::kEndpointSlice);
  auto got = GeneratedRelabelings(MustParse("web"), 0, ServiceDiscoveryRole::kEndpoints);
  ASSERT_EQ(got.size(), slice.size());
  auto want = MustYaml(R"(
- {action: keep, source_labels: [__meta_kubernetes_endpoint_port_name], regex: http-metrics}
- {source_labels: [__meta_kubernetes_endpoint_address_target_kind, __meta_kubernetes_endpoint_address_target_name], separator: ';', regex: Node;(.*), replacement: '${1}', target_label: node}
- {source_labels: [__meta_kubernetes_endpoint_address_target_kind, __meta_kubernetes_endpoint_address_target_name], separator: ';', regex: Pod;(.*), replacement: '${1}', target_label: pod}
)");
  for (size_t i = 0; i < got.size(); ++i) {
    if (i >= 2 && i <= 4) {
      EXPECT_EQ(got[i], want[i - 2]) << "rule " << i;
    } else {
      EXPECT_EQ(got[i], slice[i]) << "rule " << i;
    }
  }
}

// From generatePodMonitorConfig: running filter first, selector on pod labels, container
// port name, then namespace/container/pod, podTargetLabels, job "<ns>/<name>" and jobLabel.
TEST(GeneratedRelabelingsTest, PodMonitorEndpoint) {
  auto got = GeneratedRelabelings(MustParse("sidecars"), 0, ServiceDiscoveryRole::kEndpointSlice);
  auto want = MustYaml(R"(
- {source_labels: [job], target_label: __tmp_prometheus_job_name}
- {action: drop, source_labels: [__meta_kubernetes_pod_phase], regex: (Failed|Succeeded)}
- {action: keep, source_labels: [__meta_kubernetes_pod_label_app, __meta_kubernetes_pod_labelpresent_app], regex: (web);true}
- {action: keep, source_labels: [__meta_kubernetes_pod_container_port_name], regex: envoy-admin}
- {source_labels: [__meta_kubernetes_namespace], target_label: namespace}
- {source_labels: [__meta_kubernetes_pod_container_name], target_label: container}
- {source_labels: [__meta_kubernetes_pod_name], target_label: pod}
- {source_labels: [__meta_kubernetes_pod_label_version], target_label: version, regex: (.+), replacement: '${1}'}
- {target_label: job, replacement: default/sidecars}
- {source_labels: [__meta_kubernetes_pod_label_app], target_label: job, regex: (.+), replacement: '${1}'}
- {target_label: endpoint, replacement: envoy-admin}
)");
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], want[i]) << "rule " << i;
}

TEST(GeneratedRelabelingsTest, SelectorExpressionsAndTargetPort) {
  auto m = ParseMonitor(nlohmann::json::parse(R"({
    "kind": "ServiceMonitor", "metadata": {"name": "m", "namespace": "ns"},
    "spec": {"selector": {"matchExpressions": [
        {"key": "app.kubernetes.io/name", "operator": "NotIn", "values": ["a", "b"]},
        {"key": "team", "operator": "Exists"},
        {"key": "legacy", "operator": "DoesNotExist"}]},
      "endpoints": [{"targetPort": "web"}, {"targetPort": 8080}]}})"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto first = GeneratedRelabelings(*m, 0, ServiceDiscoveryRole::kEndpointSlice);
  auto want = MustYaml(R"(
- {action: drop, source_labels: [__meta_kubernetes_service_label_app_kubernetes_io_name, __meta_kubernetes_service_labelpresent_app_kubernetes_io_name], regex: (a|b);true}
- {action: keep, source_labels: [__meta_kubernetes_service_labelpresent_team], regex: 'true'}
- {action: drop, source_labels: [__meta_kubernetes_service_labelpresent_legacy], regex: 'true'}
- {action: keep, source_labels: [__meta_kubernetes_pod_container_port_name], regex: web}
)");
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(first[i + 1], want[i]) << "rule " << i + 1;
  EXPECT_EQ(first.back(), MustYaml("[{target_label: endpoint, replacement: web}]")[0]);
  auto second = GeneratedRelabelings(*m, 1, ServiceDiscoveryRole::kEndpointSlice);
  EXPECT_EQ(second[4],
            MustYaml("[{action: keep, source_labels: "
                     "[__meta_kubernetes_pod_container_port_number], regex: '8080'}]")[0]);
}

TEST(SanitizeLabelNameTest, ReplacesInvalidCharacters) {
  EXPECT_EQ(SanitizeLabelName("app.kubernetes.io/name"), "app_kubernetes_io_name");
  EXPECT_EQ(SanitizeLabelName("ok_Name9"), "ok_Name9");
  EXPECT_EQ(SanitizeLabelName("a-b c"), "a_b_c");
}

}  // namespace
}  // namespace shardwise::opdiscovery
