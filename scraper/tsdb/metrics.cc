#include "scraper/tsdb/metrics.h"

namespace shardwise::tsdb {

TsdbMetrics& TsdbMetrics::Get() {
  auto& r = metrics::Registry::Default();
  static TsdbMetrics m{
      r.AddGauge("shardwise_tsdb_head_series", "Series in the TSDB head."),
      r.AddGauge("shardwise_tsdb_head_chunks", "Chunks (closed and open) in the TSDB head."),
      r.AddGauge("shardwise_tsdb_head_min_time_ms", "Oldest sample timestamp in the head."),
      r.AddGauge("shardwise_tsdb_head_max_time_ms", "Newest sample timestamp in the head."),
      r.AddCounter("shardwise_tsdb_samples_appended_total", "Samples appended to the head."),
      r.AddCounter("shardwise_tsdb_out_of_order_samples_total",
                   "Samples rejected for being older than the series' newest sample."),
      r.AddCounter("shardwise_tsdb_duplicate_samples_total",
                   "Samples rejected for repeating the timestamp of the series' newest sample."),
      r.AddCounter("shardwise_tsdb_series_limit_rejections_total",
                   "New series refused because the head's max-series limit was reached."),
      r.AddCounter("shardwise_tsdb_series_created_total", "Series created in the head."),
      r.AddCounter("shardwise_tsdb_series_removed_total", "Series removed by retention."),
      r.AddCounter("shardwise_tsdb_chunks_removed_total", "Chunks removed by retention."),
      r.AddCounter("shardwise_tsdb_commits_total", "Appender commits written to the WAL."),
      r.AddCounter("shardwise_tsdb_wal_bytes_written_total", "Bytes written to WAL segments."),
      r.AddGauge("shardwise_tsdb_wal_segments", "WAL segment files on disk."),
      r.AddCounter("shardwise_tsdb_wal_segments_deleted_total",
                   "WAL segments deleted by retention."),
      r.AddHistogram("shardwise_tsdb_wal_fsync_duration_seconds", "WAL fsync latency.",
                     metrics::ExponentialBuckets(0.0001, 4, 9)),
      r.AddCounter("shardwise_tsdb_wal_corruptions_total",
                   "Damaged WAL regions found on replay (torn tails and mid-log corruption)."),
      r.AddCounter("shardwise_tsdb_wal_write_failures_total", "Failed WAL writes or fsyncs."),
      r.AddGauge("shardwise_tsdb_wal_replay_duration_seconds",
                 "Time the last WAL replay on open took."),
      r.AddCounter("shardwise_tsdb_checkpoint_runs_total", "WAL checkpoints written."),
      r.AddCounter("shardwise_tsdb_checkpoint_failures_total", "WAL checkpoints that failed."),
      r.AddGauge("shardwise_tsdb_wal_size_bytes",
                 "Bytes of WAL segments on disk after the last retention or size-cap check."),
      r.AddCounter("shardwise_tsdb_wal_segments_dropped_unacknowledged_total",
                   "WAL segments deleted by the size cap before every WAL consumer (remote "
                   "write) acknowledged them: data those consumers never sent."),
      r.AddCounter("shardwise_tsdb_wal_bytes_dropped_unacknowledged_total",
                   "Bytes of the WAL segments counted in "
                   "shardwise_tsdb_wal_segments_dropped_unacknowledged_total."),
      r.AddCounter("shardwise_tsdb_out_of_bound_samples_total",
                   "Samples rejected for being older than the head accepts (head max time "
                   "minus half the chunk range)."),
      r.AddGauge("shardwise_tsdb_wal_disk_full",
                 "1 while WAL writes fail for lack of space (scrapes are not stored), else 0."),
  };
  return m;
}

void RegisterLabelPairMetrics(metrics::Registry& registry,
                              std::weak_ptr<const storage::LabelPairTable> table) {
  registry.AddCollector([table = std::move(table)](metrics::Writer& w) {
    std::shared_ptr<const storage::LabelPairTable> t = table.lock();
    if (!t) return;
    w.Family("shardwise_label_pairs",
             "Distinct (name, value) label pairs held once per process, shared by the TSDB "
             "head and remote write.",
             "gauge");
    w.Sample("shardwise_label_pairs", {}, static_cast<double>(t->size()));
    w.Family("shardwise_label_pair_bytes",
             "Heap bytes of those pairs: table entries, hash table and encoded bytes.", "gauge");
    w.Sample("shardwise_label_pair_bytes", {}, static_cast<double>(t->MemoryBytes()));
  });
}

}  // namespace shardwise::tsdb
