// The per-request cost of ApplyTo: inline credentials versus a credentials file that has
// not changed (served from the cache after one stat()).
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "common/http/client_config.h"

namespace shardwise::http {
namespace {

void BM_ApplyToInline(benchmark::State& state) {
  HttpClientConfig config;
  config.authorization = Authorization{.credentials = "token"};
  config.headers = {{"X-Scope-OrgID", "tenant"}};
  for (auto _ : state) {
    ClientRequest request;
    benchmark::DoNotOptimize(ApplyTo(config, request));
  }
}
BENCHMARK(BM_ApplyToInline);

void BM_ApplyToCredentialsFile(benchmark::State& state) {
  std::string dir_template =
      (std::filesystem::temp_directory_path() / "client_config_bench_XXXXXX").string();
  const std::string dir = mkdtemp(dir_template.data());
  const std::string file = dir + "/token";
  std::ofstream(file) << "token\n";
  // Older than the racy window, so reads are served from the cache.
  std::filesystem::last_write_time(
      file, std::filesystem::file_time_type::clock::now() - std::chrono::minutes(1));
  HttpClientConfig config;
  config.authorization = Authorization{.credentials_file = file};
  for (auto _ : state) {
    ClientRequest request;
    benchmark::DoNotOptimize(ApplyTo(config, request));
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ApplyToCredentialsFile);

}  // namespace
}  // namespace shardwise::http
