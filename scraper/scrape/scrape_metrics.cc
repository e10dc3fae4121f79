#include "scraper/scrape/scrape_metrics.h"

namespace shardwise::scrape {

ScrapeMetrics& ScrapeMetrics::Get() {
  static ScrapeMetrics* m = [] {
    auto& r = metrics::Registry::Default();
    return new ScrapeMetrics{
        r.AddCounterFamily("shardwise_scrape_scrapes_total", "Scrapes attempted.", {"scrape_job"}),
        r.AddCounterFamily("shardwise_scrape_scrapes_failed_total",
                           "Scrapes that failed (network, HTTP status, parse error, limits).",
                           {"scrape_job"}),
        r.AddHistogramFamily("shardwise_scrape_duration_seconds",
                             "Scrape duration: request, parse and append.", {"scrape_job"},
                             metrics::LatencyBuckets()),
        r.AddCounterFamily("shardwise_scrape_samples_scraped_total",
                           "Samples exposed by targets in successful scrapes.", {"scrape_job"}),
        r.AddCounterFamily("shardwise_scrape_limit_hits_total",
                           "Scrapes failed by a limit (sample_limit, label_limit, "
                           "label_name_length_limit, label_value_length_limit, body_size_limit).",
                           {"scrape_job", "limit"}),
        r.AddGaugeFamily("shardwise_scrape_targets_active", "Targets being scraped.",
                         {"scrape_job"}),
        r.AddGauge("shardwise_scrape_cache_series", "Series held in the scrape caches."),
        r.AddCounterFamily("shardwise_scrape_skipped_ticks_total",
                           "Scrape ticks skipped because the previous scrape was still running.",
                           {"scrape_job"}),
        r.AddCounterFamily("shardwise_scrape_samples_rejected_total",
                           "Scraped samples the storage refused: out_of_bounds (older than the "
                           "head accepts), out_of_order, duplicate (same timestamp, other value).",
                           {"scrape_job", "reason"}),
    };
  }();
  return *m;
}

}  // namespace shardwise::scrape
