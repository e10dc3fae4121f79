#include "operator/discovery/kubernetes_sd.h"

#include <gtest/gtest.h>

#include "operator/discovery/testing.h"

namespace shardwise::opdiscovery {
namespace {

using testing::Cluster;
using testing::Render;

// The expected sets list, label by label, what Prometheus's endpointslice and pod roles
// (discovery/kubernetes/endpointslice.go, pod.go) emit for the objects in
// testdata/cluster.json: group labels (namespace, address type, slice metadata, the
// Service's metadata via kubernetes.io/service-name) + per endpoint/port labels + the
// podLabels() of the referenced Pod + the container port matching the slice port.
TEST(EndpointSliceTargetsTest, PodBackedEndpointCarriesSliceServiceAndPodLabels) {
  Cluster cluster("cluster.json");
  const nlohmann::json* slice = nullptr;
  for (const auto& item : cluster.objects["items"]) {
    if (item["kind"] == "EndpointSlice" && item["metadata"]["name"] == "web-abc12") slice = &item;
  }
  ASSERT_NE(slice, nullptr);
  std::vector<Labels> targets = EndpointSliceTargets(*slice, cluster.view);
  // 3 endpoints x 2 ports, then the sidecar port 15000 of each of the 3 pods seen, which no
  // slice port covers.
  ASSERT_EQ(targets.size(), 9u);

  Labels want{
      {"__address__", "10.0.0.1:8080"},
      {"__meta_kubernetes_endpointslice_address_target_kind", "Pod"},
      {"__meta_kubernetes_endpointslice_address_target_name", "web-1"},
      {"__meta_kubernetes_endpointslice_address_type", "IPv4"},
      {"__meta_kubernetes_endpointslice_endpoint_conditions_ready", "true"},
      {"__meta_kubernetes_endpointslice_endpoint_conditions_serving", "true"},
      {"__meta_kubernetes_endpointslice_endpoint_conditions_terminating", "false"},
      {"__meta_kubernetes_endpointslice_endpoint_node_name", "node-a"},
      {"__meta_kubernetes_endpointslice_endpoint_zone", "zone-1"},
      {"__meta_kubernetes_endpointslice_label_endpointslice_kubernetes_io_managed_by",
       "endpointslice-controller.k8s.io"},
      {"__meta_kubernetes_endpointslice_labelpresent_endpointslice_kubernetes_io_managed_by",
       "true"},
      {"__meta_kubernetes_endpointslice_label_kubernetes_io_service_name", "web"},
      {"__meta_kubernetes_endpointslice_labelpresent_kubernetes_io_service_name", "true"},
      {"__meta_kubernetes_endpointslice_name", "web-abc12"},
      {"__meta_kubernetes_endpointslice_port", "8080"},
      {"__meta_kubernetes_endpointslice_port_name", "http-metrics"},
      {"__meta_kubernetes_endpointslice_port_protocol", "TCP"},
      {"__meta_kubernetes_namespace", "default"},
      {"__meta_kubernetes_pod_annotation_kubectl_kubernetes_io_restartedAt",
       "2026-11-20T10:00:00Z"},
      {"__meta_kubernetes_pod_annotationpresent_kubectl_kubernetes_io_restartedAt", "true"},
      {"__meta_kubernetes_pod_container_image", "example/web:1.2"},
      {"__meta_kubernetes_pod_container_init", "false"},
      {"__meta_kubernetes_pod_container_name", "app"},
      {"__meta_kubernetes_pod_container_port_name", "http-metrics"},
      {"__meta_kubernetes_pod_container_port_number", "8080"},
      {"__meta_kubernetes_pod_container_port_protocol", "TCP"},
      {"__meta_kubernetes_pod_controller_kind", "ReplicaSet"},
      {"__meta_kubernetes_pod_controller_name", "web-5d8"},
      {"__meta_kubernetes_pod_host_ip", "192.168.0.1"},
      {"__meta_kubernetes_pod_ip", "10.0.0.1"},
      {"__meta_kubernetes_pod_label_app", "web"},
      {"__meta_kubernetes_pod_label_pod_template_hash", "5d8"},
      {"__meta_kubernetes_pod_label_version", "v1"},
      {"__meta_kubernetes_pod_labelpresent_app", "true"},
      {"__meta_kubernetes_pod_labelpresent_pod_template_hash", "true"},
      {"__meta_kubernetes_pod_labelpresent_version", "true"},
      {"__meta_kubernetes_pod_name", "web-1"},
      {"__meta_kubernetes_pod_node_name", "node-a"},
      {"__meta_kubernetes_pod_phase", "Running"},
      {"__meta_kubernetes_pod_ready", "true"},
      {"__meta_kubernetes_pod_uid", "uid-web-1"},
      {"__meta_kubernetes_service_annotation_prometheus_io_scrape", "true"},
      {"__meta_kubernetes_service_annotationpresent_prometheus_io_scrape", "true"},
      {"__meta_kubernetes_service_label_app", "web"},
      {"__meta_kubernetes_service_label_app_kubernetes_io_team", "shop"},
      {"__meta_kubernetes_service_label_tier", "frontend"},
      {"__meta_kubernetes_service_labelpresent_app", "true"},
      {"__meta_kubernetes_service_labelpresent_app_kubernetes_io_team", "true"},
      {"__meta_kubernetes_service_labelpresent_tier", "true"},
      {"__meta_kubernetes_service_name", "web"},
  };
  EXPECT_EQ(Render(targets[0]), Render(want));

  // Second port of the same endpoint: the slice's appProtocol and the admin container port.
  EXPECT_EQ(targets[1].Get("__address__"), "10.0.0.1:9000");
  EXPECT_EQ(targets[1].Get("__meta_kubernetes_endpointslice_port_app_protocol"), "https");
  EXPECT_EQ(targets[1].Get("__meta_kubernetes_pod_container_port_name"), "admin");

  // Not-ready, terminating endpoint: conditions reported, target still emitted.
  EXPECT_EQ(targets[2].Get("__address__"), "10.0.0.2:8080");
  EXPECT_EQ(targets[2].Get("__meta_kubernetes_endpointslice_endpoint_conditions_ready"), "false");
  EXPECT_EQ(targets[2].Get("__meta_kubernetes_endpointslice_endpoint_conditions_terminating"),
            "true");
  EXPECT_EQ(targets[2].Get("__meta_kubernetes_pod_ready"), "false");
  EXPECT_FALSE(targets[2].Has("__meta_kubernetes_endpointslice_endpoint_zone"));

  // Endpoint with only "ready" set: serving/terminating absent.
  EXPECT_EQ(targets[4].Get("__address__"), "10.0.0.3:8080");
  EXPECT_FALSE(targets[4].Has("__meta_kubernetes_endpointslice_endpoint_conditions_serving"));

  // Uncovered container port: pod and container labels, no slice port or endpoint labels.
  const Labels& extra = targets[6];
  EXPECT_EQ(extra.Get("__address__"), "10.0.0.1:15000");
  EXPECT_EQ(extra.Get("__meta_kubernetes_pod_container_name"), "sidecar");
  EXPECT_EQ(extra.Get("__meta_kubernetes_pod_container_port_name"), "envoy-admin");
  EXPECT_EQ(extra.Get("__meta_kubernetes_service_name"), "web");
  EXPECT_FALSE(extra.Has("__meta_kubernetes_endpointslice_port_name"));
  EXPECT_FALSE(extra.Has("__meta_kubernetes_endpointslice_address_target_kind"));
}

TEST(EndpointSliceTargetsTest, NodeTargetRefAndHostname) {
  Cluster cluster("cluster.json");
  for (const auto& item : cluster.objects["items"]) {
    if (item["kind"] != "EndpointSlice" || item["metadata"]["name"] != "db-x9") continue;
    auto targets = EndpointSliceTargets(item, cluster.view);
    ASSERT_EQ(targets.size(), 1u);
    EXPECT_EQ(targets[0].Get("__address__"), "10.0.1.1:9187");
    EXPECT_EQ(targets[0].Get("__meta_kubernetes_endpointslice_address_target_kind"), "Node");
    EXPECT_EQ(targets[0].Get("__meta_kubernetes_endpointslice_address_target_name"), "node-b");
    EXPECT_EQ(targets[0].Get("__meta_kubernetes_endpointslice_endpoint_hostname"), "db-0");
    EXPECT_FALSE(targets[0].Has("__meta_kubernetes_pod_name"));
    return;
  }
  FAIL() << "fixture db-x9 missing";
}

TEST(EndpointSliceTargetsTest, IPv6AddressesAreBracketed) {
  ClusterView view;
  auto slice = nlohmann::json::parse(R"({
    "metadata": {"name": "v6", "namespace": "ns"}, "addressType": "IPv6",
    "endpoints": [{"addresses": ["fd00::1"]}], "ports": [{"port": 80}]})");
  auto targets = EndpointSliceTargets(slice, view);
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].Get("__address__"), "[fd00::1]:80");
  // No Service known: no service labels at all.
  EXPECT_FALSE(targets[0].Has("__meta_kubernetes_service_name"));
}

// Pod role: group labels = podLabels() + namespace; one target per container port, and one
// per port-less container with the bare pod IP (here the init container).
TEST(PodTargetsTest, OneTargetPerContainerPort) {
  Cluster cluster("cluster.json");
  const ClusterView::ByName& pods = cluster.view.Pods("default");
  auto it = pods.find("web-1");
  ASSERT_NE(it, pods.end());
  auto targets = PodTargets(*it->second);
  ASSERT_EQ(targets.size(), 4u);
  EXPECT_EQ(targets[0].Get("__address__"), "10.0.0.1:8080");
  EXPECT_EQ(targets[0].Get("__meta_kubernetes_pod_container_id"), "containerd://app-web-1");
  EXPECT_EQ(targets[0].Get("__meta_kubernetes_namespace"), "default");
  EXPECT_EQ(targets[2].Get("__address__"), "10.0.0.1:15000");
  EXPECT_EQ(targets[2].Get("__meta_kubernetes_pod_container_name"), "sidecar");
  EXPECT_EQ(targets[2].Get("__meta_kubernetes_pod_container_port_name"), "envoy-admin");
  EXPECT_EQ(targets[3].Get("__address__"), "10.0.0.1");
  EXPECT_EQ(targets[3].Get("__meta_kubernetes_pod_container_name"), "init-config");
  EXPECT_EQ(targets[3].Get("__meta_kubernetes_pod_container_init"), "true");
  EXPECT_EQ(targets[3].Get("__meta_kubernetes_pod_container_id"), "containerd://init-web-1");
  EXPECT_FALSE(targets[3].Has("__meta_kubernetes_pod_container_port_number"));
}

TEST(PodTargetsTest, PodWithoutIpHasNoTargets) {
  auto pod = nlohmann::json::parse(R"({"metadata": {"name": "p", "namespace": "ns"},
    "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]},
    "status": {"phase": "Pending"}})");
  EXPECT_TRUE(PodTargets(pod).empty());
}

// Prometheus's endpoints role (discovery/kubernetes/endpoints.go) for an Endpoints object
// of Service "web": group labels (namespace, endpoints name and labels, the Service's
// metadata) + per port and address labels (ready ones first, then notReadyAddresses) + the
// referenced Pod's podLabels() + the regular container declaring the port.
TEST(EndpointsTargetsTest, ReadyAndNotReadyAddressesWithServiceAndPodLabels) {
  Cluster cluster("cluster.json");
  nlohmann::json eps = nlohmann::json::parse(R"({
    "kind": "Endpoints",
    "metadata": {"name": "web", "namespace": "default", "labels": {"app.kubernetes.io/x": "y"}},
    "subsets": [{
      "addresses": [{"ip": "10.0.0.1", "nodeName": "node-a",
                     "targetRef": {"kind": "Pod", "namespace": "default", "name": "web-1"}}],
      "notReadyAddresses": [{"ip": "10.9.9.9", "hostname": "h-9",
                             "targetRef": {"kind": "Node", "name": "node-z"}}],
      "ports": [{"name": "http-metrics", "port": 8080, "protocol": "TCP"}]
    }]})");
  std::vector<Labels> targets = EndpointsTargets(eps, cluster.view);
  // 10.0.0.1:8080 (ready), 10.9.9.9:8080 (not ready), then web-1's uncovered ports 9000
  // (app) and 15000 (sidecar).
  ASSERT_EQ(targets.size(), 4u);
  Labels group_and_service{
      {"__meta_kubernetes_endpoints_label_app_kubernetes_io_x", "y"},
      {"__meta_kubernetes_endpoints_labelpresent_app_kubernetes_io_x", "true"},
      {"__meta_kubernetes_endpoints_name", "web"},
      {"__meta_kubernetes_namespace", "default"},
      {"__meta_kubernetes_service_annotation_prometheus_io_scrape", "true"},
      {"__meta_kubernetes_service_annotationpresent_prometheus_io_scrape", "true"},
      {"__meta_kubernetes_service_label_app", "web"},
      {"__meta_kubernetes_service_label_app_kubernetes_io_team", "shop"},
      {"__meta_kubernetes_service_label_tier", "frontend"},
      {"__meta_kubernetes_service_labelpresent_app", "true"},
      {"__meta_kubernetes_service_labelpresent_app_kubernetes_io_team", "true"},
      {"__meta_kubernetes_service_labelpresent_tier", "true"},
      {"__meta_kubernetes_service_name", "web"},
  };
  auto with = [&](std::initializer_list<Label> extra) {
    LabelsBuilder b(group_and_service);
    for (const auto& l : extra) b.Set(l.name, l.value);
    return b.Build();
  };
  EXPECT_EQ(Render(targets[1]),
            Render(with({{"__address__", "10.9.9.9:8080"},
                         {"__meta_kubernetes_endpoint_address_target_kind", "Node"},
                         {"__meta_kubernetes_endpoint_address_target_name", "node-z"},
                         {"__meta_kubernetes_endpoint_hostname", "h-9"},
                         {"__meta_kubernetes_endpoint_port_name", "http-metrics"},
                         {"__meta_kubernetes_endpoint_port_protocol", "TCP"},
                         {"__meta_kubernetes_endpoint_ready", "false"}})));
  const Labels& ready = targets[0];
  EXPECT_EQ(ready.Get("__address__"), "10.0.0.1:8080");
  EXPECT_EQ(ready.Get("__meta_kubernetes_endpoint_ready"), "true");
  EXPECT_EQ(ready.Get("__meta_kubernetes_endpoint_node_name"), "node-a");
  EXPECT_EQ(ready.Get("__meta_kubernetes_endpoint_address_target_kind"), "Pod");
  EXPECT_EQ(ready.Get("__meta_kubernetes_endpoint_address_target_name"), "web-1");
  EXPECT_EQ(ready.Get("__meta_kubernetes_pod_name"), "web-1");
  EXPECT_EQ(ready.Get("__meta_kubernetes_pod_ready"), "true");
  EXPECT_EQ(ready.Get("__meta_kubernetes_pod_container_name"), "app");
  EXPECT_EQ(ready.Get("__meta_kubernetes_pod_container_port_name"), "http-metrics");
  EXPECT_EQ(ready.Get("__meta_kubernetes_pod_container_port_number"), "8080");
  EXPECT_EQ(ready.Get("__meta_kubernetes_pod_container_port_protocol"), "TCP");
  EXPECT_EQ(ready.Get("__meta_kubernetes_endpoints_name"), "web");
  // No endpointslice labels under this role.
  for (const auto& l : ready) {
    EXPECT_FALSE(l.name.starts_with("__meta_kubernetes_endpointslice_")) << l.name;
  }
  EXPECT_EQ(targets[2].Get("__address__"), "10.0.0.1:9000");
  EXPECT_EQ(targets[2].Get("__meta_kubernetes_pod_container_port_name"), "admin");
  EXPECT_EQ(targets[2].Get("__meta_kubernetes_endpoint_ready"), "");
  EXPECT_EQ(targets[3].Get("__address__"), "10.0.0.1:15000");
  EXPECT_EQ(targets[3].Get("__meta_kubernetes_pod_container_name"), "sidecar");
}

}  // namespace
}  // namespace shardwise::opdiscovery
