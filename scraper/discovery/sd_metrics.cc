#include "scraper/discovery/sd_metrics.h"

namespace shardwise::sd {

SdMetrics& SdMetrics::Get() {
  static SdMetrics* m = [] {
    auto& r = metrics::Registry::Default();
    return new SdMetrics{
        r.AddCounterFamily("shardwise_sd_refreshes_total",
                           "Target source refreshes (file reads, HTTP requests).", {"mechanism"}),
        r.AddCounterFamily("shardwise_sd_refresh_failures_total",
                           "Target source refreshes that failed; the last good targets are kept.",
                           {"mechanism"}),
    };
  }();
  return *m;
}

}  // namespace shardwise::sd
