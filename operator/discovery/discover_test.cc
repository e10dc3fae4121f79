#include "operator/discovery/discover.h"
#include "operator/assign/target_id.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "operator/discovery/testing.h"

namespace shardwise::opdiscovery {
namespace {

using testing::Cluster;
using testing::Render;

// The fixtures hold EndpointSlices; the endpoints role is tested against Endpoints built
// from them (EndpointsRoleFindsTheSameTargets).
DiscoveryOptions SliceRole() {
  DiscoveryOptions o;
  o.role = ServiceDiscoveryRole::kEndpointSlice;
  return o;
}
const DiscoveryOptions kSliceRole = SliceRole();

class DiscoverTest : public ::testing::Test {
 protected:
  Result<DiscoveryResult> Run(const char* monitor) {
    return Discover(monitors_[monitor], cluster_.view, kSliceRole);
  }
  std::vector<std::string> Rendered(const DiscoveryResult& r) {
    std::vector<std::string> out;
    for (const auto& t : r.targets) out.push_back(Render(t.labels));
    return out;
  }

  Cluster cluster_{"cluster.json"};
  nlohmann::json monitors_ = testing::LoadJson("monitors.json");
};

// Expected labels per generated rule (generated_relabelings.h numbering, ServiceMonitor):
//   rule 2 keeps Service app=web; rule 3 keeps slice port "http-metrics" (the admin port and
//   the uncovered sidecar ports drop here); rule 4 pod=<target ref name>; rule 5
//   namespace=default, service=web, container=app; rule 6 drops web-3 (Succeeded) although
//   web-2, not ready, stays; rule 7 tier (Service label), version (Pod label); rule 8
//   job=web; rule 9 endpoint=http-metrics; the endpoint's own rule adds node_name;
//   Prometheus adds instance=__address__.
TEST_F(DiscoverTest, ServiceMonitorTargets) {
  auto r = Run("web");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Rendered(*r),
            (std::vector<std::string>{
                "container=app, endpoint=http-metrics, instance=10.0.0.1:8080, job=web, "
                "namespace=default, node_name=node-a, pod=web-1, service=web, tier=frontend, "
                "version=v1",
                "container=app, endpoint=http-metrics, instance=10.0.0.2:8080, job=web, "
                "namespace=default, node_name=node-b, pod=web-2, service=web, tier=frontend, "
                "version=v1",
                // Endpoint 1: same rules with port "admin"; no user relabelings.
                "container=app, endpoint=admin, instance=10.0.0.1:9000, job=web, "
                "namespace=default, pod=web-1, service=web, tier=frontend, version=v1",
                "container=app, endpoint=admin, instance=10.0.0.2:9000, job=web, "
                "namespace=default, pod=web-2, service=web, tier=frontend, version=v1",
            }));
  // Slice web-abc12 gives 9 label sets per endpoint (db-x9's Service fails the selector
  // before expansion); 2 are kept.
  EXPECT_EQ(r->dropped, 14u);
  EXPECT_TRUE(r->target_errors.empty());

  const Target& first = r->targets[0];
  EXPECT_EQ(first.interval_ms, 15000);
  EXPECT_EQ(first.timeout_ms, 10000);
  EXPECT_EQ(first.internal_labels.Get("__scrape_interval__"), "15s");
  EXPECT_EQ(first.config->job_name, "serviceMonitor/default/web/0");
  EXPECT_EQ(first.config->limits.sample_limit, 5000u);
  EXPECT_FALSE(first.config->metric_relabeler.Process(Labels{{"__name__", "go_gc_duration"}}));
  EXPECT_TRUE(first.config->metric_relabeler.Process(Labels{{"__name__", "http_requests"}}));

  // Scrape parameters travel as internal labels until the end of relabeling.
  const Target& admin = r->targets[2];
  EXPECT_EQ(Render(admin.internal_labels),
            "__address__=10.0.0.1:9000, __metrics_path__=/admin/metrics, "
            "__param_module=http_2xx, __scheme__=https, __scrape_interval__=30s, "
            "__scrape_timeout__=10s, __tmp_prometheus_job_name=serviceMonitor/default/web/1, "
            "container=app, endpoint=admin, instance=10.0.0.1:9000, job=web, "
            "namespace=default, pod=web-1, service=web, tier=frontend, version=v1");
  EXPECT_EQ(admin.scheme, "https");
  EXPECT_EQ(admin.metrics_path, "/admin/metrics");
  EXPECT_EQ(admin.params.at("module"), (std::vector<std::string>{"http_2xx", "extra"}));
  ASSERT_TRUE(admin.config->bearer_token_secret.has_value());
  EXPECT_EQ(admin.config->bearer_token_secret->name, "scrape-token");
  ASSERT_TRUE(admin.config->tls_config.has_value());
  EXPECT_EQ(admin.config->tls_config->server_name, "web.default.svc");
  assign::Params admin_params;
  for (const auto& [k, values] : admin.params) {
    for (const auto& v : values) admin_params.emplace_back(k, v);
  }
  EXPECT_EQ(admin.id, assign::TargetId("serviceMonitor/default/web/1", "10.0.0.1:9000",
                                       "/admin/metrics", admin_params));

  std::set<uint64_t> ids;
  for (const auto& t : r->targets) ids.insert(t.id);
  EXPECT_EQ(ids.size(), r->targets.size());
}

// namespaceSelector.any looks everywhere; jobLabel (rule 8b) replaces job with the Service's
// app.kubernetes.io/team label where it is set (default/web: "shop") and leaves job=<service
// name> where it is not (other/web). other/web's endpoint has no target ref: no pod labels.
TEST_F(DiscoverTest, AnyNamespaceAndJobLabel) {
  auto r = Run("web_joblabel_any");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Rendered(*r),
            (std::vector<std::string>{
                "container=app, endpoint=http-metrics, instance=10.0.0.1:8080, job=shop, "
                "namespace=default, pod=web-1, service=web",
                "container=app, endpoint=http-metrics, instance=10.0.0.2:8080, job=shop, "
                "namespace=default, pod=web-2, service=web",
                "endpoint=http-metrics, instance=10.1.0.1:8080, job=web, namespace=other, "
                "service=web",
            }));
  EXPECT_EQ(r->targets[0].config->job_name, "serviceMonitor/monitoring/web-any/0");
}

// Rule 4's "Node;(.*)" sets node from a Node target ref; scrapeTimeout 5s is kept as given.
TEST_F(DiscoverTest, NodeTargetRef) {
  auto r = Run("db");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Rendered(*r),
            (std::vector<std::string>{"endpoint=metrics, instance=10.0.1.1:9187, job=db, "
                                      "namespace=default, node=node-b, service=db"}));
  EXPECT_EQ(r->targets[0].timeout_ms, 5000);
  EXPECT_EQ(r->targets[0].internal_labels.Get("__scrape_timeout__"), "5s");
}

// targetPort 15000 keeps on the container port number: only the targets Prometheus adds for
// container ports no slice port covers have it (the sidecar port), with the pod labels but
// no slice port labels; endpoint="15000".
TEST_F(DiscoverTest, TargetPortNumberMatchesUncoveredContainerPorts) {
  auto r = Run("target_port_number");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Rendered(*r),
            (std::vector<std::string>{
                "container=sidecar, endpoint=15000, instance=10.0.0.1:15000, job=web, "
                "namespace=default, pod=web-1, service=web",
                "container=sidecar, endpoint=15000, instance=10.0.0.2:15000, job=web, "
                "namespace=default, pod=web-2, service=web",
            }));
}

// PodMonitor rules (generated_relabelings.h, PodMonitor column): rule 2 drops web-3; rule 3
// keeps app=web; rule 4 keeps container port envoy-admin; rule 5 namespace, container, pod;
// rule 6 version; rule 7 job=default/sidecars, then jobLabel app -> job=web; rule 8 endpoint.
TEST_F(DiscoverTest, PodMonitorTargets) {
  auto r = Run("sidecars");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Rendered(*r),
            (std::vector<std::string>{
                "container=sidecar, endpoint=envoy-admin, instance=10.0.0.1:15000, job=web, "
                "namespace=default, pod=web-1, version=v1",
                "container=sidecar, endpoint=envoy-admin, instance=10.0.0.2:15000, job=web, "
                "namespace=default, pod=web-2, version=v1",
            }));
  const Target& t = r->targets[0];
  EXPECT_EQ(t.config->job_name, "podMonitor/default/sidecars/0");
  EXPECT_EQ(t.interval_ms, 60000);
  EXPECT_EQ(t.internal_labels.Get("__scrape_interval__"), "1m");
  EXPECT_EQ(t.metrics_path, "/stats/prometheus");
}

TEST_F(DiscoverTest, InvalidMonitorsGetTheirOwnStatus) {
  struct Case {
    const char* monitor;
    Status::Code code;
    std::vector<std::string> message_parts;
  };
  const Case cases[] = {
      {"bad_regex",
       Status::Code::kInvalidArgument,
       {"ServiceMonitor default/bad-regex", "relabelings", "invalid regex \"(unclosed\""}},
      {"bad_port",
       Status::Code::kInvalidArgument,
       {"\"http-metric\" is not a port name of any selected Service (default/web)"}},
      {"missing_secret",
       Status::Code::kNotFound,
       {"basicAuth.username", "Secret \"default/creds\" not found"}},
      {"missing_key",
       Status::Code::kNotFound,
       {"authorization.credentials", "key \"nope\" not in Secret \"default/scrape-token\""}},
      {"timeout_over_interval",
       Status::Code::kInvalidArgument,
       {"scrapeTimeout (20s) is greater than the interval (10s)"}},
      {"bad_duration",
       Status::Code::kInvalidArgument,
       {"endpoints[0].interval", "invalid duration \"10 seconds\": unknown unit \" seconds\""}},
      {"target_limit", Status::Code::kResourceExhausted, {"2 targets exceed targetLimit 1"}},
  };
  for (const Case& c : cases) {
    auto r = Run(c.monitor);
    ASSERT_FALSE(r.ok()) << c.monitor;
    EXPECT_EQ(r.status().code(), c.code) << c.monitor << ": " << r.status().ToString();
    for (const auto& part : c.message_parts) {
      EXPECT_NE(r.status().message().find(part), std::string::npos)
          << c.monitor << ": " << r.status().message();
    }
  }
  // The valid monitors in the same file are unaffected.
  size_t ok = 0;
  for (const auto& [name, monitor] : monitors_.items()) {
    if (Discover(monitor, cluster_.view, kSliceRole).ok()) ++ok;
  }
  EXPECT_EQ(ok, monitors_.size() - std::size(cases));
}

TEST_F(DiscoverTest, RelabelingCanRejectTargetsAfterwards) {
  // A user rule that empties __address__ and one that sets a bad interval: Prometheus
  // reports these targets as errors instead of scraping them.
  auto monitor = monitors_["db"];
  monitor["spec"]["endpoints"][0]["relabelings"] =
      nlohmann::json::parse(R"([{"targetLabel": "__scrape_interval__", "replacement": "never"}])");
  auto r = Discover(monitor, cluster_.view, kSliceRole);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->targets.empty());
  ASSERT_EQ(r->target_errors.size(), 1u);
  EXPECT_NE(r->target_errors[0].find("error parsing scrape interval"), std::string::npos)
      << r->target_errors[0];

  monitor["spec"]["endpoints"][0]["relabelings"] =
      nlohmann::json::parse(R"([{"targetLabel": "__address__", "replacement": "db.example"}])");
  r = Discover(monitor, cluster_.view, kSliceRole);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->targets.size(), 1u);
  // No port: Prometheus 2.x appends the scheme's default port.
  EXPECT_EQ(r->targets[0].address, "db.example:80");
  EXPECT_EQ(r->targets[0].labels.Get("instance"), "db.example:80");
}

TEST_F(DiscoverTest, DuplicateTargetsAreKeptOnce) {
  // Two slices for one Service listing the same endpoint (as during a slice handover).
  nlohmann::json extra = cluster_.objects["items"][8];  // db-x9
  ASSERT_EQ(extra["metadata"]["name"], "db-x9");
  extra["metadata"]["name"] = "db-y7";
  cluster_.view.AddEndpointSlice(extra);
  auto r = Run("db");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->targets.size(), 1u);
}

// What the endpoints controller would write for the same Service: one Endpoints object per
// Service, ready addresses and notReadyAddresses per port.
nlohmann::json EndpointsFromSlices(const nlohmann::json& items) {
  std::map<std::pair<std::string, std::string>, nlohmann::json> by_service;
  for (const auto& slice : items) {
    if (slice["kind"] != "EndpointSlice") continue;
    std::string ns = slice["metadata"]["namespace"];
    std::string svc = slice["metadata"]["labels"]["kubernetes.io/service-name"];
    nlohmann::json& eps = by_service[{ns, svc}];
    if (eps.is_null()) {
      eps = {{"kind", "Endpoints"},
             {"metadata", {{"namespace", ns}, {"name", svc}, {"labels", {{"app", svc}}}}},
             {"subsets", nlohmann::json::array()}};
    }
    nlohmann::json subset = {{"ports", nlohmann::json::array()}};
    for (const auto& p : slice.value("ports", nlohmann::json::array())) {
      nlohmann::json port = {{"port", p["port"]}, {"protocol", p.value("protocol", "TCP")}};
      if (p.contains("name")) port["name"] = p["name"];
      subset["ports"].push_back(port);
    }
    for (const auto& ep : slice.value("endpoints", nlohmann::json::array())) {
      bool ready = ep.value("conditions", nlohmann::json::object()).value("ready", true);
      for (const auto& ip : ep["addresses"]) {
        nlohmann::json address = {{"ip", ip}};
        if (ep.contains("targetRef")) address["targetRef"] = ep["targetRef"];
        if (ep.contains("nodeName")) address["nodeName"] = ep["nodeName"];
        if (ep.contains("hostname")) address["hostname"] = ep["hostname"];
        subset[ready ? "addresses" : "notReadyAddresses"].push_back(address);
      }
    }
    eps["subsets"].push_back(subset);
  }
  nlohmann::json out = nlohmann::json::array();
  for (auto& [key, eps] : by_service) out.push_back(eps);
  return out;
}

// The Prometheus Operator's generated relabelings turn either role's meta labels into the
// same target labels, so a ServiceMonitor finds the same targets with either role.
TEST_F(DiscoverTest, EndpointsRoleFindsTheSameTargets) {
  nlohmann::json endpoints = EndpointsFromSlices(cluster_.objects["items"]);
  ASSERT_FALSE(endpoints.empty());
  for (const auto& e : endpoints) cluster_.view.AddEndpoints(e);
  DiscoveryOptions endpoints_role;
  endpoints_role.role = ServiceDiscoveryRole::kEndpoints;
  int compared = 0;
  for (const auto& [name, monitor] : monitors_.items()) {
    if (monitor["kind"] != "ServiceMonitor") continue;
    auto slices = Discover(monitor, cluster_.view, kSliceRole);
    auto eps = Discover(monitor, cluster_.view, endpoints_role);
    ASSERT_EQ(slices.ok(), eps.ok()) << name;
    if (!slices.ok()) continue;
    std::vector<std::string> a = Rendered(*slices), b = Rendered(*eps);
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    EXPECT_EQ(a, b) << name;
    compared += a.empty() ? 0 : 1;
  }
  EXPECT_GT(compared, 0);
}

// A relabeling reading a label only the other role has is a warning, not silence.
TEST_F(DiscoverTest, WarnsAboutMetaLabelsTheRoleNeverHas) {
  auto monitor = monitors_["db"];
  monitor["spec"]["endpoints"][0]["relabelings"] = nlohmann::json::parse(
      R"([{"sourceLabels": ["__meta_kubernetes_endpoint_ready"], "regex": "true",
           "action": "keep"}])");
  auto r = Discover(monitor, cluster_.view, kSliceRole);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->targets.empty());
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("__meta_kubernetes_endpoint_ready"), std::string::npos);
  DiscoveryOptions endpoints_role;
  endpoints_role.role = ServiceDiscoveryRole::kEndpoints;
  r = Discover(monitor, cluster_.view, endpoints_role);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->warnings.empty());
}

}  // namespace
}  // namespace shardwise::opdiscovery
