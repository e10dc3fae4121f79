// Target discovery for one ServiceMonitor or PodMonitor: a pure function of the monitor and
// the cluster objects in a ClusterView, with the Prometheus Operator's generated relabeling
// and Prometheus's target label rules (scrape/target.go PopulateLabels):
//   1. Kubernetes SD label sets for the monitor's namespaces: the endpoints or endpointslice
//      role (DiscoveryOptions::role) for ServiceMonitors, the pod role for PodMonitors.
//   2. Scrape defaults added where unset: job (= job name), __scheme__, __metrics_path__,
//      __scrape_interval__, __scrape_timeout__, and __param_<k> (first value of each param).
//   3. The generated relabeling (generated_relabelings.h); a drop here is a dropped target.
//   4. No __address__ -> dropped; a missing port gets :80 / :443 from the scheme (as
//      Prometheus 2.x does); an address with '/' or a bad interval/timeout -> dropped with
//      a target error.
//   5. __meta_* removed, instance defaulted to __address__; final labels lose "__" labels.
//   6. Targets with the same labels and id within one endpoint are kept once.
// A monitor that cannot be used (malformed fields, a relabeling that does not compile, an
// invalid interval or timeout, a missing Secret/ConfigMap or key that is not optional, a
// port name no selected Service or Pod declares, more targets than targetLimit) yields a
// Status for that monitor only.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/status.h"
#include "operator/discovery/cluster_view.h"
#include "operator/discovery/monitor.h"
#include "operator/discovery/target.h"

namespace shardwise::opdiscovery {

struct DiscoveryOptions {
  // The ScrapePool's serviceDiscoveryRole (ServiceMonitors only).
  ServiceDiscoveryRole role = ServiceDiscoveryRole::kEndpoints;
  // The ScrapePool's scrapeDefaults.
  int64_t default_interval_ms = 30000;
  int64_t default_timeout_ms = 10000;
  // At most this many per-target error messages are kept.
  size_t max_target_errors = 20;
};

struct DiscoveryResult {
  std::vector<Target> targets;
  size_t dropped = 0;                      // discovered label sets dropped by relabeling
  std::vector<std::string> target_errors;  // targets rejected after relabeling, and why
  // Relabelings reading __meta_kubernetes_* labels the role never produces (role_labels.h).
  std::vector<std::string> warnings;
};

Result<DiscoveryResult> Discover(const Monitor& monitor, const ClusterView& view,
                                 const DiscoveryOptions& options = {});
// Parses the monitor JSON (ParseMonitor) and discovers.
Result<DiscoveryResult> Discover(const nlohmann::json& monitor, const ClusterView& view,
                                 const DiscoveryOptions& options = {});

// The namespaces a monitor looks in: all (namespaceSelector.any), matchNames, or its own.
std::vector<std::string> MonitorNamespaces(const Monitor& monitor, const ClusterView& view);

}  // namespace shardwise::opdiscovery
