// Autoscaling end to end, mode Operator, on the local cluster: the operator's Deployment from
// manifests/, the scrapers as the pods of the StatefulSet it creates, sample apps whose series
// the test grows and shrinks (POST /control?series=N), a remote-write receiver in the test.
//
// Shows: as series grow the operator raises .spec.shards through the scale subresource and
// records status.autoscaling and an Event with the figures; the new shards take targets
// over; when the series shrink it scales back in, not before the scale-down stabilization
// window, and the drained shards' pods go; every target is scraped in every interval
// throughout (the sample apps' /scrapes logs); the receiver gets no staleness marker for a
// series that still exists (those of targets that moved), only for the series removed.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>

#include "common/testing/test_util.h"
#include "tests/e2e/fleet.h"

namespace shardwise::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// 4 sample apps export ~70 series each at rest (~280: one shard of 400, inside the 90 %
// scale-in band); with 200 synthetic series each ~1080, ceil(1080 / 400) = 3 shards.
constexpr int kTargetSeriesPerShard = 400;
constexpr int kGrownSeries = 200;

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
  scraper:
    resources: {limits: {memory: 256Mi}}
  autoscaling:
    mode: Operator
    minShards: 1
    maxShards: 3
    targetSeriesPerShard: )" +
         std::to_string(kTargetSeriesPerShard) + R"(
    scaleUpStabilizationSeconds: 3
    scaleDownStabilizationSeconds: 10
)";
}

TEST(AutoscaleE2ETest, OperatorModeScalesOutAndBackInWithoutMissingAnInterval) {
  Fleet fleet;
  Status started = fleet.Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  LocalCluster& cluster = fleet.cluster();
  auto applied = cluster.Apply(Pool(fleet.remote_write_url()));
  ASSERT_EQ(applied.exit_code, 0) << applied.Describe();

  // One shard scrapes every sample app and the receiver gets samples.
  ASSERT_TRUE(fleet.WaitForShardTargets({4}, 90s)) << fleet.Describe();
  ASSERT_TRUE(WaitFor([&] { return fleet.SamplesReceived() > 0; }, 60s)) << fleet.Describe();
  const double start = UnixNow();
  // The memory signal's inputs reach the operator: the scraper's resident memory and its
  // container's limit (256Mi, which the kubelet shows the scraper as cgroup memory.max).
  std::string memory;
  EXPECT_TRUE(WaitFor(Every(1s,
                            [&] {
                              memory = fleet.Get("scrapeshard/main-0", ".status.memoryBytes");
                              return std::atoll(memory.c_str()) > 0;
                            }),
                      30s))
      << fleet.Describe();
  EXPECT_EQ(fleet.Get("scrapeshard/main-0", ".status.memoryLimitBytes"), "268435456")
      << fleet.Describe();

  // Grow: the pool scales out to maxShards, with status and an Event carrying the figures.
  ASSERT_TRUE(fleet.SetSeries(kGrownSeries).ok());
  ASSERT_TRUE(
      cluster.WaitForJsonPath("scrapepool/main", ".spec.shards", "3", Fleet::kNamespace, 90s))
      << fleet.Describe();
  auto status = json::parse(fleet.Get("scrapepool/main", ".status.autoscaling"), nullptr, false);
  ASSERT_TRUE(status.is_object()) << fleet.Describe();
  EXPECT_EQ(status.value("mode", ""), "Operator") << status.dump();
  EXPECT_EQ(status.value("desiredShards", 0), 3) << status.dump();
  EXPECT_NE(status.value("lastScaleReason", "").find("series over a target of 400"),
            std::string::npos)
      << status.dump();
  EXPECT_FALSE(status.value("lastScaleTime", "").empty()) << status.dump();
  auto events = cluster.Kubectl({"get", "events", "-n", Fleet::kNamespace, "--field-selector",
                                 "reason=AutoscaledShards", "-o", "jsonpath={.items[*].message}"});
  EXPECT_NE(events.out.find("scraper shards 1 -> 3"), std::string::npos) << events.Describe();
  // Every new shard takes targets over.
  ASSERT_TRUE(fleet.WaitForTargetsOnEveryShard(3, 60s)) << fleet.Describe();

  // Shrink: back to one shard once the scale-down window has passed; drained shards' pods go.
  ASSERT_TRUE(fleet.SetSeries(0).ok());
  const auto shrunk = std::chrono::steady_clock::now();
  ASSERT_TRUE(
      cluster.WaitForJsonPath("scrapepool/main", ".spec.shards", "1", Fleet::kNamespace, 90s))
      << fleet.Describe();
  EXPECT_GE(std::chrono::steady_clock::now() - shrunk, 10s)
      << "scaled in before the stabilization window";
  ASSERT_TRUE(fleet.WaitForShardTargets({4}, 60s)) << fleet.Describe();
  ASSERT_TRUE(WaitFor(Every(1s,
                            [&] {
                              return fleet.Get("pods -l shardwise.io/pool=main",
                                               ".items[*].metadata.name") == "shardwise-main-0-0";
                            }),
                      60s))
      << fleet.Describe();

  EXPECT_EQ(fleet.ContinuityProblems(start, 2.0, "sample_app_synthetic"), "");
  // The synthetic series the test removed were marked stale (the markers work at all).
  EXPECT_TRUE(WaitFor(Every(500ms, [&] { return !fleet.StaleMarkers().empty(); }), 10s));
}

}  // namespace
}  // namespace shardwise::testing
