// RulesFile: the --custom-metrics.config file (prometheus-adapter rules) as the operator
// follows it while running. The rules ConfigMap is mounted as a volume and the kubelet
// replaces a changed ConfigMap's file in place (an atomic symlink swap), so reading the path
// again sees the new rules: prometheus-adapter needs a restart for that, the operator does
// not (WorkloadMetricsProvider::Options::reload_rules polls LoadIfChanged()).
//
// A load reads the file once and checks it whole: the adapter's format, then every
// metricsQuery against the supported PromQL subset (CheckMetricsQueries). The bytes of the
// last load, good or bad, are remembered, so a broken file is reported once, not on every
// poll, and the rules in use stay until a good file replaces it.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "operator/custommetrics/adapter_rules.h"

namespace shardwise::custommetrics {

class RulesFile {
 public:
  explicit RulesFile(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  // Reads and checks the file.
  Result<AdapterConfig> Load();
  // nullopt while the file holds the bytes of the last load (or cannot be read: a ConfigMap
  // volume mid-swap); else Load()'s answer for the new bytes.
  std::optional<Result<AdapterConfig>> LoadIfChanged();

 private:
  Result<AdapterConfig> Parse(const std::string& bytes);

  const std::string path_;
  std::optional<std::string> loaded_;  // the bytes of the last load
};

}  // namespace shardwise::custommetrics
