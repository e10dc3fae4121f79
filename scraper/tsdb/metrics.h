// The TSDB's own metrics (shardwise_tsdb_*), registered on the default registry. All DB
// instances in a process share them, as Prometheus's do; gauges reflect the DB that
// updated them last (a scraper has one).
#pragma once

#include <memory>

#include "common/metrics/registry.h"
#include "scraper/storage/label_pair_table.h"

namespace shardwise::tsdb {

struct TsdbMetrics {
  metrics::Gauge& head_series;
  metrics::Gauge& head_chunks;
  metrics::Gauge& head_min_time;
  metrics::Gauge& head_max_time;
  metrics::Counter& samples_appended;
  metrics::Counter& out_of_order;
  metrics::Counter& duplicates;
  metrics::Counter& series_limit_hits;
  metrics::Counter& series_created;
  metrics::Counter& series_removed;
  metrics::Counter& chunks_removed;
  metrics::Counter& commits;
  metrics::Counter& wal_bytes;
  metrics::Gauge& wal_segments;
  metrics::Counter& wal_segments_deleted;
  metrics::Histogram& wal_fsync_seconds;
  metrics::Counter& wal_corruptions;
  metrics::Counter& wal_write_failures;
  metrics::Gauge& replay_seconds;
  metrics::Counter& checkpoint_runs;
  metrics::Counter& checkpoint_failures;
  metrics::Gauge& wal_size_bytes;
  metrics::Counter& wal_segments_dropped_unacknowledged;
  metrics::Counter& wal_bytes_dropped_unacknowledged;
  metrics::Counter& out_of_bound;
  metrics::Gauge& wal_disk_full;

  static TsdbMetrics& Get();
};

// Exposes the process's label pair table (shared by the head and remote write) as
// shardwise_label_pairs and shardwise_label_pair_bytes, read at each scrape of /metrics.
void RegisterLabelPairMetrics(metrics::Registry& registry,
                              std::weak_ptr<const storage::LabelPairTable> table);

}  // namespace shardwise::tsdb
