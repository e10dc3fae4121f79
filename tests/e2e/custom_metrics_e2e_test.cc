// Custom metrics for any workload, end to end on the local cluster (issue 13): the operator
// Deployment from manifests/ with a prometheus-adapter configuration in its ConfigMap, a pool
// of two scraper shards, the sample app Deployment with a ServiceMonitor, and an HPA on the
// Pods metric http_requests_per_second served through the aggregation layer.
//
// The configuration is prometheus-adapter's docs/config-walkthrough.md, "Per-pod HTTP
// Requests" (operator/custommetrics/testdata/config_walkthrough.yaml), unchanged, with one
// externalRules entry appended for external.metrics.k8s.io. Its series carry
// kubernetes_namespace / kubernetes_pod_name, which the ServiceMonitor's relabelings add as
// the walkthrough's Prometheus configuration does.
//
// Shows: `kubectl get --raw` on the custom (discovery, pods/*, namespace) and external metrics
// paths; the HPA scales the app out when the test raises its request rate (POST
// /control?rps=) and back in once the rate falls, after a short scale-down stabilization;
// then a changed rule in the ConfigMap is served without restarting the operator.
// The walkthrough's rule takes the rate over [2m], so the rate falls only when the burst
// leaves that window: the scale-in comes about two minutes after the burst.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "common/http/client.h"
#include "common/testing/test_util.h"
#include "tests/e2e/fleet.h"
#include "tests/e2e/local_cluster.h"

namespace shardwise::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Indent(const std::string& text, const std::string& prefix) {
  std::string out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out += prefix + line + "\n";
  return out;
}

// Replaces the first occurrence of `from` (which must be there).
std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

constexpr char kExternalRules[] = R"(externalRules:
- seriesQuery: 'sample_app_requests_per_second{kubernetes_namespace!=""}'
  resources:
    overrides:
      kubernetes_namespace: {resource: "namespace"}
  name:
    matches: "^sample_app_requests_per_second$"
    as: "sample_app_target_rps"
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>})'
)";

constexpr char kPool[] = R"(apiVersion: shardwise.io/v1alpha1
kind: ScrapePool
metadata: {name: main, namespace: shardwise-system}
spec:
  shards: 2
  serviceMonitorSelector: {matchLabels: {shardwise.io/pool: main}}
  monitorNamespaceSelector: {}
  scrapeDefaults: {interval: 2s, timeout: 1s}
---
)";

// The labels prometheus-adapter's walkthrough expects, as its Prometheus relabels them.
constexpr char kRelabelings[] = R"(    relabelings:
    - {sourceLabels: [__meta_kubernetes_namespace], targetLabel: kubernetes_namespace}
    - {sourceLabels: [__meta_kubernetes_pod_name], targetLabel: kubernetes_pod_name}
)";

// About 1.5 requests/s per pod without load (scrapes and readiness probes); the burst's rate
// over [2m] passes 10/s within seconds, asking for 3 pods.
constexpr char kHpa[] = R"(apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: sample-app, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: sample-app}
  minReplicas: 1
  maxReplicas: 3
  metrics:
    - type: Pods
      pods:
        metric: {name: http_requests_per_second}
        target: {type: AverageValue, averageValue: "5"}
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 0
      policies: [{type: Pods, value: 3, periodSeconds: 1}]
    scaleDown:
      stabilizationWindowSeconds: 5
      policies: [{type: Percent, value: 100, periodSeconds: 1}]
)";

class CustomMetricsE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    LocalClusterOptions o;
    o.nodes = 2;
    o.extra_args = {"--hpa-sync-period=2s"};
    cluster_ = std::make_unique<LocalCluster>(o);
    Status s = cluster_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void TearDown() override {
    if (HasFailure() && cluster_) {
      for (auto args : std::vector<std::vector<std::string>>{
               {"get", "pods,hpa,apiservices,scrapeshards", "-A", "-o", "wide"},
               {"describe", "hpa", "sample-app"},
               {"get", "apiservice", "v1beta1.custom.metrics.k8s.io", "-o", "jsonpath={.status}"},
               {"logs", "-n", "shardwise-system", "deployment/shardwise-operator", "--tail=60"}}) {
        std::cerr << cluster_->Kubectl(args).Describe() << "\n";
      }
    }
    cluster_.reset();
  }

  CommandResult Kubectl(std::vector<std::string> args) const { return cluster_->Kubectl(args); }

  json Raw(const std::string& path, std::string* error = nullptr) const {
    auto r = Kubectl({"get", "--raw", path});
    if (r.exit_code != 0) {
      if (error) *error = r.Describe();
      return json();
    }
    return json::parse(r.out, nullptr, false);
  }

  std::string Replicas() const {
    return cluster_->JsonPath("deployment/sample-app", ".spec.replicas");
  }

  std::unique_ptr<LocalCluster> cluster_;
};

TEST_F(CustomMetricsE2ETest, HpaScalesTheSampleAppOnItsRequestRate) {
  Status crds = ApplyCrds(*cluster_);
  ASSERT_TRUE(crds.ok()) << crds.ToString();

  // The operator as manifests/ deploys it, the ConfigMap replaced by the adapter's
  // configuration (what a user migrating from prometheus-adapter does), one replica, and
  // short intervals for the test.
  auto base = Kubectl({"apply", "-f", LocalCluster::SourcePath("manifests/namespace.yaml"), "-f",
                       LocalCluster::SourcePath("manifests/rbac.yaml"), "-f",
                       LocalCluster::SourcePath("manifests/custom-metrics.yaml")});
  ASSERT_EQ(base.exit_code, 0) << base.Describe();
  std::string config = ReadFile(LocalCluster::SourcePath(
                           "operator/custommetrics/testdata/config_walkthrough.yaml")) +
                       kExternalRules;
  auto cm = cluster_->Apply(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shardwise-custom-metrics, namespace: "
      "shardwise-system}\ndata:\n  config.yaml: |\n" +
      Indent(config, "    "));
  ASSERT_EQ(cm.exit_code, 0) << cm.Describe();
  std::string op = ReadFile(LocalCluster::SourcePath("manifests/operator.yaml"));
  op = Replace(op, "replicas: 2", "replicas: 1");
  op = Replace(op,
               "            - --custom-metrics.config=/etc/shardwise/custom-metrics/config.yaml\n",
               "            - --custom-metrics.config=/etc/shardwise/custom-metrics/config.yaml\n"
               "            - --custom-metrics.relist-interval=2s\n"
               "            - --custom-metrics.cache-ttl=1s\n"
               "            - --rebuild-wait=1s\n");
  auto deployed = cluster_->Apply(op);
  ASSERT_EQ(deployed.exit_code, 0) << deployed.Describe();
  auto workload =
      cluster_->Apply(std::string(kPool) +
                      SampleAppYaml({.ns = "default", .service = true, .endpoint = kRelabelings}));
  ASSERT_EQ(workload.exit_code, 0) << workload.Describe();

  ASSERT_TRUE(cluster_->WaitForJsonPath("deployment/shardwise-operator", ".status.readyReplicas",
                                        "1", "shardwise-system", 90s));
  ASSERT_TRUE(cluster_->WaitForJsonPath("deployment/sample-app", ".status.readyReplicas", "1",
                                        "default", 60s));
  ASSERT_TRUE(
      cluster_->WaitForCondition("apiservice/v1beta1.custom.metrics.k8s.io", "Available", "", 60s));
  ASSERT_TRUE(cluster_->WaitForCondition("apiservice/v1beta1.external.metrics.k8s.io", "Available",
                                         "", 60s));

  // Discovery lists the walkthrough's metric once a shard has scraped the app.
  std::string err;
  ASSERT_TRUE(WaitFor(
      [&] {
        json d = Raw("/apis/custom.metrics.k8s.io/v1beta1", &err);
        if (!d.is_object()) return false;
        for (const auto& r : d.value("resources", json::array())) {
          if (r.value("name", "") == "pods/http_requests_per_second") return true;
        }
        return false;
      },
      90s))
      << err;

  const std::string pods_path =
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/"
      "http_requests_per_second?labelSelector=app%3Dsample-app";
  json values;
  ASSERT_TRUE(WaitFor(
      [&] {
        values = Raw(pods_path, &err);
        return values.is_object() && values.value("items", json::array()).size() == 1;
      },
      30s))
      << err << values.dump();
  const json& item = values["items"][0];
  EXPECT_EQ(item["describedObject"]["kind"], "Pod");
  EXPECT_EQ(item["metric"]["name"], "http_requests_per_second");
  EXPECT_EQ(item["windowSeconds"], 120) << "the rule's [2m]";
  json ns =
      Raw("/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/metrics/"
          "http_requests_per_second",
          &err);
  ASSERT_TRUE(ns.is_object()) << err;
  EXPECT_EQ(ns["items"][0]["describedObject"]["kind"], "Namespace") << ns.dump();

  auto hpa = cluster_->Apply(kHpa);
  ASSERT_EQ(hpa.exit_code, 0) << hpa.Describe();
  ASSERT_TRUE(cluster_->WaitForJsonPath("hpa/sample-app", ".status.currentMetrics[0].type", "Pods",
                                        "default", 30s));
  EXPECT_EQ(Replicas(), "1") << "no load yet";

  // The burst: 150 requests/s in the app's first pod.
  std::string pod = item["describedObject"]["name"];
  http::Client client;
  auto control = [&](int rps) {
    http::ClientRequest r;
    r.method = "POST";
    r.url = "http://" + cluster_->PodIp(pod) + ":8080/control?rps=" + std::to_string(rps);
    r.timeout = 5s;
    auto resp = client.DoSync(r);
    return resp.ok() && resp->status == 200;
  };
  ASSERT_TRUE(control(150));
  ASSERT_TRUE(WaitFor([&] { return Replicas() == "3"; }, 60s)) << "replicas " << Replicas() << "\n"
                                                               << Raw(pods_path).dump();

  // The external metric (the app's configured rate gauge, summed over the namespace).
  json ext;
  ASSERT_TRUE(WaitFor(
      [&] {
        ext = Raw("/apis/external.metrics.k8s.io/v1beta1/namespaces/default/sample_app_target_rps",
                  &err);
        return ext.is_object() && !ext.value("items", json::array()).empty() &&
               ext["items"][0].value("value", "") == "150";
      },
      30s))
      << err << ext.dump();
  EXPECT_EQ(ext["kind"], "ExternalMetricValueList");
  json ext_list = Raw("/apis/external.metrics.k8s.io/v1beta1", &err);
  ASSERT_TRUE(ext_list.is_object()) << err;
  EXPECT_EQ(ext_list["resources"][0]["name"], "sample_app_target_rps");

  // Load gone: back to one pod once the burst has left the rule's 2m window and the 5 s
  // scale-down stabilization has passed.
  ASSERT_TRUE(control(0));
  ASSERT_TRUE(WaitFor([&] { return Replicas() == "1"; }, 180s)) << "replicas " << Replicas() << "\n"
                                                                << Raw(pods_path).dump();

  // The rules change in the ConfigMap: served without restarting the operator (the kubelet
  // updates the mounted file; the operator re-reads it before each discovery round).
  auto changed = cluster_->Apply(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shardwise-custom-metrics, namespace: "
      "shardwise-system}\ndata:\n  config.yaml: |\n" +
      Indent(Replace(config, "${1}_per_second", "${1}_rate"), "    "));
  ASSERT_EQ(changed.exit_code, 0) << changed.Describe();
  json listed;
  ASSERT_TRUE(WaitFor(
      [&] {
        listed = Raw("/apis/custom.metrics.k8s.io/v1beta1", &err);
        bool renamed = false, old = false;
        for (const auto& r : listed.value("resources", json::array())) {
          renamed |= r.value("name", "") == "pods/http_requests_rate";
          old |= r.value("name", "") == "pods/http_requests_per_second";
        }
        return renamed && !old;
      },
      30s))
      << err << listed.dump();
  auto restarts = Kubectl({"get", "pods", "-n", "shardwise-system", "-l",
                           "app.kubernetes.io/name=shardwise-operator", "-o",
                           "jsonpath={.items[*].status.containerStatuses[*].restartCount}"});
  EXPECT_EQ(restarts.out, "0") << restarts.Describe();
}

}  // namespace
}  // namespace shardwise::testing
