// The scrape engine's own metrics (shardwise_scrape_*), registered once on the default
// registry and shared by every manager in the process.
#pragma once

#include "common/metrics/registry.h"

namespace shardwise::scrape {

struct ScrapeMetrics {
  metrics::CounterFamily& scrapes;           // {job}
  metrics::CounterFamily& scrapes_failed;    // {job}
  metrics::HistogramFamily& duration;        // {job}
  metrics::CounterFamily& samples_scraped;   // {job}
  metrics::CounterFamily& limit_hits;        // {job, limit}
  metrics::GaugeFamily& targets_active;      // {job}
  metrics::Gauge& cache_series;              // all loops' caches
  metrics::CounterFamily& skipped_ticks;     // {job}: a scrape still running at the next tick
  metrics::CounterFamily& samples_rejected;  // {job, reason}: refused by the storage
  static ScrapeMetrics& Get();
};

}  // namespace shardwise::scrape
