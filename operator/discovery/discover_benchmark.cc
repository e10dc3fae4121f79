// Discovery cost on a synthetic namespace: 200 Services, each with one EndpointSlice of 10
// pod-backed endpoints (2,000 pods). One monitor selects a single Service, one selects all.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <string>

#include "operator/discovery/discover.h"

namespace shardwise::opdiscovery {
namespace {

// The synthetic cluster holds EndpointSlices.
DiscoveryOptions SliceRole() {
  DiscoveryOptions o;
  o.role = ServiceDiscoveryRole::kEndpointSlice;
  return o;
}

using nlohmann::json;

struct Synthetic {
  std::vector<json> objects;
  ClusterView view;

  Synthetic(int services, int endpoints_per_service) {
    objects.reserve(services * (endpoints_per_service + 2));
    for (int s = 0; s < services; ++s) {
      std::string svc = "svc-" + std::to_string(s);
      objects.push_back({{"kind", "Service"},
                         {"metadata",
                          {{"name", svc},
                           {"namespace", "bench"},
                           {"labels", {{"app", svc}, {"tier", "backend"}, {"team", "t1"}}}}},
                         {"spec", {{"ports", {{{"name", "metrics"}, {"port", 8080}}}}}}});
      json endpoints = json::array();
      for (int e = 0; e < endpoints_per_service; ++e) {
        std::string pod = svc + "-pod-" + std::to_string(e);
        std::string ip = "10." + std::to_string(s / 250) + "." + std::to_string(s % 250) + "." +
                         std::to_string(e + 1);
        endpoints.push_back(
            {{"addresses", {ip}},
             {"conditions", {{"ready", true}}},
             {"nodeName", "node-" + std::to_string(e)},
             {"targetRef", {{"kind", "Pod"}, {"namespace", "bench"}, {"name", pod}}}});
        objects.push_back(
            {{"kind", "Pod"},
             {"metadata",
              {{"name", pod},
               {"namespace", "bench"},
               {"uid", pod + "-uid"},
               {"labels", {{"app", svc}, {"version", "v1"}}}}},
             {"spec",
              {{"nodeName", "node-" + std::to_string(e)},
               {"containers",
                {{{"name", "app"},
                  {"image", "example/app:1"},
                  {"ports",
                   {{{"name", "metrics"}, {"containerPort", 8080}, {"protocol", "TCP"}}}}}}}}},
             {"status", {{"phase", "Running"}, {"podIP", ip}}}});
      }
      objects.push_back({{"kind", "EndpointSlice"},
                         {"metadata",
                          {{"name", svc + "-abc"},
                           {"namespace", "bench"},
                           {"labels", {{"kubernetes.io/service-name", svc}}}}},
                         {"addressType", "IPv4"},
                         {"endpoints", endpoints},
                         {"ports", {{{"name", "metrics"}, {"port", 8080}, {"protocol", "TCP"}}}}});
    }
    for (const auto& o : objects) {
      if (!view.Add(o).ok()) std::abort();
    }
  }
};

json Monitor(json selector) {
  return {{"kind", "ServiceMonitor"},
          {"metadata", {{"name", "m"}, {"namespace", "bench"}}},
          {"spec",
           {{"selector", selector},
            {"targetLabels", {"tier"}},
            {"endpoints", {{{"port", "metrics"}}}}}}};
}

void BM_DiscoverOneService(benchmark::State& state) {
  Synthetic cluster(200, 10);
  json monitor = Monitor({{"matchLabels", {{"app", "svc-7"}}}});
  for (auto _ : state) {
    auto r = Discover(monitor, cluster.view, SliceRole());
    if (!r.ok() || r->targets.size() != 10) std::abort();
  }
}
BENCHMARK(BM_DiscoverOneService)->Unit(benchmark::kMillisecond);

void BM_DiscoverAllServices(benchmark::State& state) {
  Synthetic cluster(200, 10);
  json monitor = Monitor({{"matchLabels", {{"tier", "backend"}}}});
  for (auto _ : state) {
    auto r = Discover(monitor, cluster.view, SliceRole());
    if (!r.ok() || r->targets.size() != 2000) std::abort();
  }
  state.SetItemsProcessed(state.iterations() * 2000);
}
BENCHMARK(BM_DiscoverAllServices)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace shardwise::opdiscovery
