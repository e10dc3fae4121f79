// Fleet: Shardwise deployed on the local cluster as a user deploys it, for end-to-end tests
// of the whole fleet (autoscaling, handoffs):
//   kubectl apply -f crds/...; kubectl apply -k manifests/ (the operator's Deployment: two
//   replicas under its ServiceAccount and RBAC, with `operator_args` appended to its args);
//   with `custom_metrics`, also
//   kubectl apply -f manifests/custom-metrics.yaml (the APIServices of HPA mode);
//   a Deployment of `sample_apps` sample apps in namespace `apps` (each exporting
//   `sample_app_series` series or what POST /control?series=N asks, and logging every scrape
//   at /scrapes) with a PodMonitor labelled shardwise.io/pool=main at `scrape_interval`;
//   a remote-write receiver in the test process (loopback: pods share the host's network),
//   which records every staleness marker it gets.
// The test then applies its own ScrapePool (selecting shardwise.io/pool=main, writing to
// remote_write_url()). Every kubectl poll is throttled (Every) so waiting costs little CPU.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/http/client.h"
#include "common/http/server.h"
#include "common/status.h"
#include "tests/e2e/local_cluster.h"

namespace shardwise::testing {

// kubectl apply -f crds/monitoring.coreos.com/ -f crds/shardwise.io/, then waits until every
// CRD is Established.
Status ApplyCrds(const LocalCluster& cluster);

// The operator as a user deploys it: kubectl apply -k manifests/. With `operator_args`,
// through a kustomize overlay (in the cluster's directory) that appends them to the
// operator container's args, as a user tunes a deployment without editing manifests/.
Status ApplyOperator(const LocalCluster& cluster,
                     const std::vector<std::string>& operator_args = {});

// The sample app as the end-to-end tests deploy it: a Deployment `name` in `ns` (pods
// labelled app=<name>, each binding its pod IP on port 8080 named "metrics", exporting
// `series` synthetic series, Ready on /readyz) and the monitor that scrapes it every
// `interval`, labelled shardwise.io/pool=main: a PodMonitor, or with `service` a Service
// and a ServiceMonitor. `endpoint` is YAML added to the monitor's endpoint (4-space
// indented: relabelings, basicAuth). The namespace must exist.
struct SampleApp {
  std::string ns = "apps";
  std::string name = "sample-app";
  int replicas = 1;
  int series = 0;
  std::string interval = "2s";
  std::vector<std::string> args;  // more sample-app flags
  bool service = false;
  std::string endpoint;
};
std::string SampleAppYaml(const SampleApp& app);

struct FleetOptions {
  int sample_apps = 4;
  int sample_app_series = 0;
  std::string scrape_interval = "2s";
  bool custom_metrics = false;
  std::vector<std::string> operator_args;  // see ApplyOperator
  LocalClusterOptions cluster;
};

class Fleet {
 public:
  static constexpr char kNamespace[] = "shardwise-system";
  static constexpr char kAppNamespace[] = "apps";

  explicit Fleet(FleetOptions options = {});
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // Everything above, up to: the operator's leader Ready and every sample app Ready.
  Status Start();
  LocalCluster& cluster() { return cluster_; }
  std::string remote_write_url() const;

  // The sample apps' pod IPs (Running and Ready ones).
  std::vector<std::string> SampleAppIps() const;
  // POST /control?series=N on every sample app.
  Status SetSeries(int series) const;
  // Wall-clock times (Unix seconds) of the /metrics requests each sample app served,
  // by pod IP, from their /scrapes logs.
  std::map<std::string, std::vector<double>> ScrapeTimes() const;
  // The longest time any sample app went without a scrape between `since` and `until`
  // (Unix seconds), with the app's IP in `*who`.
  double LongestScrapeGap(double since, double until, std::string* who) const;

  // What a gap-free reshaping must leave, from `since` (Unix seconds) to now: every sample
  // app scraped at least every 1.75 intervals, and staleness markers only for series of
  // `removed_metric` (a target that moved still exists). "" when so, else what went wrong.
  // It first waits until every sample app was scraped twice more, so the tail is covered.
  std::string ContinuityProblems(double since, double interval_seconds,
                                 const std::string& removed_metric) const;

  // status.targets of the pool's ScrapeShards, by index; empty on error.
  std::vector<int> ShardTargets() const;
  // Polls ShardTargets() once a second until it is `targets`, or `limit` passes.
  bool WaitForShardTargets(const std::vector<int>& targets, std::chrono::milliseconds limit) const;
  // The same, until there are `shards` shards and every one has targets.
  bool WaitForTargetsOnEveryShard(size_t shards, std::chrono::milliseconds limit) const;

  // Series (as {a="1", ...}) of every staleness marker received so far.
  std::vector<std::string> StaleMarkers() const;
  int64_t SamplesReceived() const;

  // `kubectl get RESOURCE -n shardwise-system -o jsonpath={PATH}`.
  std::string Get(const std::string& resource, const std::string& path) const;
  // Pods, pools, shards, HPAs, recent Events and the operators' last log lines: for
  // assertion messages.
  std::string Describe() const;

 private:
  FleetOptions options_;
  LocalCluster cluster_;
  std::unique_ptr<http::Server> receiver_;
  mutable http::Client client_;
  mutable std::mutex mu_;
  std::vector<std::string> stale_;
  int64_t received_ = 0;
};

// Wraps a predicate for WaitFor so it is evaluated at most once per `period` (false in
// between): for predicates that run kubectl or call servers.
std::function<bool()> Every(std::chrono::milliseconds period, std::function<bool()> pred);

// Unix time now, in seconds.
double UnixNow();

}  // namespace shardwise::testing
