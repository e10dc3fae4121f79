// Relabeling cost on typical rule shapes: a metric_relabel_configs drop list applied to every
// sample, and the target relabeling the operator generates for a ServiceMonitor endpoint.
#include <benchmark/benchmark.h>

#include "common/relabel/parse.h"
#include "common/relabel/relabeler.h"

namespace shardwise::relabel {
namespace {

Relabeler MustCompile(const char* yaml) {
  auto configs = ParseYaml(yaml);
  if (!configs.ok()) std::abort();
  auto r = Relabeler::Compile(*configs);
  if (!r.ok()) std::abort();
  return *r;
}

void BM_MetricDropKept(benchmark::State& state) {
  Relabeler r =
      MustCompile("[{source_labels: [__name__], regex: 'go_gc_.*|process_.*', action: drop}]");
  Labels series{{"__name__", "http_requests_total"}, {"code", "200"}, {"method", "GET"}};
  LabelsBuilder lb;
  for (auto _ : state) {
    lb.Reset(series);
    benchmark::DoNotOptimize(r.Process(lb));
  }
}
BENCHMARK(BM_MetricDropKept);

void BM_CopyLabel(benchmark::State& state) {
  Relabeler r = MustCompile("[{source_labels: [instance], target_label: host}]");
  Labels series{{"__name__", "up"}, {"instance", "10.1.2.3:9100"}, {"job", "node"}};
  LabelsBuilder lb;
  for (auto _ : state) {
    lb.Reset(series);
    benchmark::DoNotOptimize(r.Process(lb));
  }
}
BENCHMARK(BM_CopyLabel);

void BM_TargetRelabeling(benchmark::State& state) {
  Relabeler r = MustCompile(R"([
    {source_labels: [__meta_kubernetes_service_label_app], regex: 'web', action: keep},
    {source_labels: [__meta_kubernetes_endpoint_port_name], regex: 'metrics', action: keep},
    {source_labels: [__meta_kubernetes_namespace], target_label: namespace},
    {source_labels: [__meta_kubernetes_service_name], target_label: service},
    {source_labels: [__meta_kubernetes_pod_name], target_label: pod},
    {source_labels: [__meta_kubernetes_pod_container_name], target_label: container},
    {source_labels: [__meta_kubernetes_service_name], target_label: job, replacement: '${1}'},
    {target_label: endpoint, replacement: metrics},
    {source_labels: [__address__], modulus: 4, target_label: __tmp_hash, action: hashmod},
    {source_labels: [__tmp_hash], regex: '0|1|2|3', action: keep}
  ])");
  Labels target{{"__address__", "10.1.2.3:8080"},
                {"__meta_kubernetes_namespace", "default"},
                {"__meta_kubernetes_service_name", "web"},
                {"__meta_kubernetes_service_label_app", "web"},
                {"__meta_kubernetes_endpoint_port_name", "metrics"},
                {"__meta_kubernetes_pod_name", "web-6d4b9-abcde"},
                {"__meta_kubernetes_pod_container_name", "app"}};
  LabelsBuilder lb;
  for (auto _ : state) {
    lb.Reset(target);
    benchmark::DoNotOptimize(r.Process(lb));
  }
}
BENCHMARK(BM_TargetRelabeling);

}  // namespace
}  // namespace shardwise::relabel
