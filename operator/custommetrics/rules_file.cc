#include "operator/custommetrics/rules_file.h"

#include <fstream>
#include <sstream>

#include "operator/custommetrics/workload_provider.h"

namespace shardwise::custommetrics {
namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return ss.str();
}

}  // namespace

Result<AdapterConfig> RulesFile::Parse(const std::string& bytes) {
  loaded_ = bytes;
  auto config = ParseAdapterConfig(bytes);
  if (!config.ok()) return config.status().WithContext(path_);
  SHARDWISE_RETURN_IF_ERROR(CheckMetricsQueries(*config).WithContext(path_));
  return config;
}

Result<AdapterConfig> RulesFile::Load() {
  auto bytes = ReadFile(path_);
  if (!bytes) return Status::IOError("cannot read adapter config " + path_);
  return Parse(*bytes);
}

std::optional<Result<AdapterConfig>> RulesFile::LoadIfChanged() {
  auto bytes = ReadFile(path_);
  if (!bytes || bytes == loaded_) return std::nullopt;
  return Parse(*bytes);
}

}  // namespace shardwise::custommetrics
