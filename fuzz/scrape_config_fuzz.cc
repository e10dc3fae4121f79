// libFuzzer target for the scraper's configuration file (scraper/scrape/config.h
// ParseConfig): arbitrary bytes as YAML.
//
// Invariants: parsing returns a Status and never throws or crashes; a rejected file says
// why; an accepted one has a named job per scrape config, a positive interval and a
// timeout no longer than it (as Prometheus requires), and relabel rules that compile.
#include <cstdint>
#include <string_view>

#include "common/relabel/relabeler.h"
#include "fuzz/fuzz_check.h"
#include "scraper/scrape/config.h"

namespace scrape = shardwise::scrape;
using shardwise::fuzz::Check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  auto config = scrape::ParseConfig(yaml);
  if (!config.ok()) {
    Check(!config.status().message().empty(), "a rejected config says why");
    return 0;
  }
  for (const auto& sc : config->scrape_configs) {
    Check(!sc.job_name.empty(), "every scrape config names its job");
    Check(sc.scrape_interval.count() > 0, "a positive scrape interval");
    Check(sc.scrape_timeout.count() > 0 && sc.scrape_timeout <= sc.scrape_interval,
          "a timeout within the interval");
    Check(shardwise::relabel::Relabeler::Compile(sc.relabel_configs).ok(),
          "accepted relabel_configs compile");
    Check(shardwise::relabel::Relabeler::Compile(sc.metric_relabel_configs).ok(),
          "accepted metric_relabel_configs compile");
  }
  return 0;
}
