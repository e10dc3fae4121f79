// Autoscaling end to end, mode HPA, on the local cluster: the operator's Deployment from
// manifests/ with manifests/custom-metrics.yaml (APIServices whose caBundle the operator
// injects), a pool in mode HPA and the HPA of manifests/examples/hpa.yaml (with test-sized
// figures) that the simulator's HPA controller drives through the aggregation layer.
//
// Shows: the APIServices become Available with the operator's CA (not insecureSkipTLSVerify);
// `kubectl get --raw /apis/custom.metrics.k8s.io/...` answers for the Object metric (the
// ScrapePool) in v1beta2 and v1beta1 and for the Pods metric (every scraper pod); as series
// grow the HPA scales the pool out through its scale subresource and `kubectl get hpa`
// shows the current and target values; when they shrink it scales back in after its
// scale-down window; the operator never writes .spec.shards itself; every target is scraped
// in every interval and no staleness marker is written for a series that still exists.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/testing/test_util.h"
#include "tests/e2e/fleet.h"

namespace shardwise::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kApi[] = "/apis/custom.metrics.k8s.io/";
constexpr char kPoolMetric[] =
    "namespaces/shardwise-system/scrapepools.shardwise.io/main/shardwise_series";
constexpr char kPodsMetric[] =
    "namespaces/shardwise-system/pods/*/"
    "shardwise_head_series?labelSelector=shardwise.io%2Fpool%3Dmain";

std::string Pool(const std::string& remote_write_url) {
  return R"(apiVersion: shardwise.io/v1alpha1
kind: ScrapePool
metadata: {name: main, namespace: shardwise-system}
spec:
  shards: 1
  podMonitorSelector: {matchLabels: {shardwise.io/pool: main}}
  monitorNamespaceSelector: {}
  scrapeDefaults: {interval: 2s, timeout: 1s}
  remoteWrite: [{url: ")" +
         remote_write_url + R"("}]
  autoscaling: {mode: HPA}
)";
}

// manifests/examples/hpa.yaml with figures for 4 sample apps: 1..3 shards, 400 series per
// shard (~280 at rest: 1; ~1080 grown: 3), a 10 s scale-down window.
std::string Hpa() {
  std::ifstream in(LocalCluster::SourcePath("manifests/examples/hpa.yaml"));
  std::stringstream buf;
  buf << in.rdbuf();
  std::string yaml = buf.str();
  for (auto [from, to] : {std::pair<std::string, std::string>{"minReplicas: 2", "minReplicas: 1"},
                          {"maxReplicas: 20", "maxReplicas: 3"},
                          {"averageValue: \"1M\"", "averageValue: \"400\""},
                          {"stabilizationWindowSeconds: 600", "stabilizationWindowSeconds: 10"}}) {
    auto at = yaml.find(from);
    if (at == std::string::npos) return "";  // the example changed: the test must follow
    yaml.replace(at, from.size(), to);
  }
  return yaml;
}

// The `value` of each item of a MetricValueList from `kubectl get --raw`, in milli-units.
std::vector<double> Values(const CommandResult& r) {
  std::vector<double> out;
  auto list = json::parse(r.out, nullptr, false);
  if (!list.is_object()) return out;
  for (const auto& item : list.value("items", json::array())) {
    std::string v = item.value("value", "");
    if (v.empty()) continue;
    double milli = v.back() == 'm' ? std::atof(v.c_str()) : std::atof(v.c_str()) * 1000;
    out.push_back(milli);
  }
  return out;
}

TEST(HpaE2ETest, HpaScalesThePoolThroughTheCustomMetricsApi) {
  FleetOptions options;
  options.custom_metrics = true;
  options.cluster.extra_args = {"--hpa-sync-period=2s"};
  Fleet fleet(options);
  Status started = fleet.Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  LocalCluster& cluster = fleet.cluster();
  auto applied = cluster.Apply(Pool(fleet.remote_write_url()));
  ASSERT_EQ(applied.exit_code, 0) << applied.Describe();

  // The aggregator verifies the operator with the CA the operator injected.
  for (const char* version : {"v1beta2", "v1beta1"}) {
    std::string apiservice = std::string("apiservice/") + version + ".custom.metrics.k8s.io";
    ASSERT_TRUE(cluster.WaitForCondition(apiservice, "Available", "", 60s))
        << cluster.JsonPath(apiservice, ".status", "") << "\n"
        << fleet.Describe();
    EXPECT_FALSE(cluster.JsonPath(apiservice, ".spec.caBundle", "").empty());
    EXPECT_NE(cluster.JsonPath(apiservice, ".spec.insecureSkipTLSVerify", ""), "true");
  }
  ASSERT_TRUE(fleet.WaitForShardTargets({4}, 90s)) << fleet.Describe();
  ASSERT_TRUE(WaitFor([&] { return fleet.SamplesReceived() > 0; }, 60s)) << fleet.Describe();
  const double start = UnixNow();

  // The Object metric on the pool, in both versions.
  auto raw = [&](const std::string& version, const std::string& path) {
    return cluster.Kubectl({"get", "--raw", kApi + version + "/" + path});
  };
  CommandResult object;
  ASSERT_TRUE(WaitFor(Every(1s,
                            [&] {
                              object = raw("v1beta2", kPoolMetric);
                              auto v = Values(object);
                              return v.size() == 1 && v[0] > 0;
                            }),
                      30s))
      << object.Describe();
  EXPECT_NE(object.out.find("\"kind\":\"ScrapePool\""), std::string::npos) << object.out;
  auto v1beta1 = raw("v1beta1", kPoolMetric);
  EXPECT_EQ(Values(v1beta1).size(), 1u) << v1beta1.Describe();
  auto discovery = cluster.Kubectl({"get", "--raw", std::string(kApi) + "v1beta2"});
  EXPECT_NE(discovery.out.find("pods/shardwise_head_series"), std::string::npos)
      << discovery.Describe();

  std::string hpa = Hpa();
  ASSERT_FALSE(hpa.empty()) << "manifests/examples/hpa.yaml no longer has the figures the test "
                               "replaces";
  applied = cluster.Apply(hpa);
  ASSERT_EQ(applied.exit_code, 0) << applied.Describe();

  // Grow: the HPA scales the pool to 3 shards from the pool's series.
  ASSERT_TRUE(fleet.SetSeries(200).ok());
  ASSERT_TRUE(
      cluster.WaitForJsonPath("scrapepool/main", ".spec.shards", "3", Fleet::kNamespace, 90s))
      << fleet.Describe();
  auto rescaled =
      cluster.Kubectl({"get", "events", "-n", Fleet::kNamespace, "--field-selector",
                       "reason=SuccessfulRescale", "-o", "jsonpath={.items[*].message}"});
  EXPECT_NE(rescaled.out.find("New size: 3"), std::string::npos) << rescaled.Describe();
  // The operator only reports in this mode; it never wrote a scale-up of its own.
  EXPECT_EQ(fleet.Get("scrapepool/main", ".status.autoscaling.mode"), "HPA");
  auto operator_events =
      cluster.Kubectl({"get", "events", "-n", Fleet::kNamespace, "--field-selector",
                       "reason=AutoscaledShards", "-o", "jsonpath={.items[*].message}"});
  EXPECT_EQ(operator_events.out, "") << operator_events.Describe();

  // `kubectl get hpa`: current and target values, never <unknown>.
  CommandResult table;
  ASSERT_TRUE(WaitFor(Every(1s,
                            [&] {
                              table = cluster.Kubectl({"get", "hpa", "-n", Fleet::kNamespace});
                              return table.out.find("/400 (avg)") != std::string::npos &&
                                     table.out.find("<unknown>") == std::string::npos;
                            }),
                      30s))
      << table.Describe();
  // The Pods metric: every scraper pod, once each reports.
  CommandResult pods;
  ASSERT_TRUE(WaitFor(Every(1s,
                            [&] {
                              pods = raw("v1beta2", kPodsMetric);
                              return Values(pods).size() == 3;
                            }),
                      60s))
      << pods.Describe();
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(pods.out.find("\"name\":\"shardwise-main-0-" + std::to_string(i) + "\""),
              std::string::npos)
        << pods.out;
  }
  ASSERT_TRUE(fleet.WaitForTargetsOnEveryShard(3, 60s)) << fleet.Describe();

  // Shrink: back to one shard after the HPA's 10 s scale-down window.
  ASSERT_TRUE(fleet.SetSeries(0).ok());
  const auto shrunk = std::chrono::steady_clock::now();
  ASSERT_TRUE(
      cluster.WaitForJsonPath("scrapepool/main", ".spec.shards", "1", Fleet::kNamespace, 90s))
      << fleet.Describe();
  EXPECT_GE(std::chrono::steady_clock::now() - shrunk, 10s)
      << "scaled in before the stabilization window";
  ASSERT_TRUE(fleet.WaitForShardTargets({4}, 60s)) << fleet.Describe();

  EXPECT_EQ(fleet.ContinuityProblems(start, 2.0, "sample_app_synthetic"), "");
}

}  // namespace
}  // namespace shardwise::testing
