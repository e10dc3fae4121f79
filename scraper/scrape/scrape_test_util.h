// Helpers shared by the scrape engine's tests: deadline polling, gzip, temp files, targets.
#pragma once

#include <zlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "common/relabel/relabeler.h"
#include "common/testing/test_util.h"
#include "scraper/scrape/config.h"
#include "scraper/scrape/target.h"

namespace shardwise::scrape::testing {

using shardwise::testing::TempDir;
using shardwise::testing::WaitFor;

inline std::string Gzip(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// The single job of a one-job YAML config ("{job_name: j, ...}").
inline ScrapeConfig ParseJob(const std::string& yaml) {
  Result<Config> config = ParseConfig("scrape_configs: [" + yaml + "]");
  if (!config.ok()) {
    fprintf(stderr, "bad test config: %s\n", config.status().ToString().c_str());
    std::abort();
  }
  return config->scrape_configs.at(0);
}

inline Target MakeTarget(const ScrapeConfig& config, const std::string& address,
                         Labels extra = {}) {
  LabelsBuilder b(extra);
  b.Set("__address__", address);
  auto relabeler = relabel::Relabeler::Compile(config.relabel_configs).value();
  auto target = BuildTarget(config, relabeler, b.Build(), Labels{}, nullptr);
  if (!target.ok() || !target->has_value()) std::abort();
  return std::move(**target);
}

// The series of `name` with the target's labels.
inline Labels SeriesOf(const Target& t, std::string_view name) {
  LabelsBuilder b(t.labels);
  b.Set(kMetricName, name);
  return b.Build();
}

}  // namespace shardwise::scrape::testing
