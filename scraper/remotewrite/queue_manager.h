// QueueManager: remote write to one endpoint, straight from the WAL.
//
// One reader thread tails the WAL (WalSource). Series records fill a map ref -> encoded
// labels (external labels added where the series lacks them, then write relabeling; a
// series relabeled away is remembered as dropped), each series' labels a block of the
// process's interned label pair ids, shared with the other endpoints' queues (SeriesStore);
// series-removed records (retention dropped the series from the head) take them out again, so the
// map holds the series the WAL still refers to. Sample records at or after the resume cursor are
// spread by series ref over N shards, so each series stays in order. Each shard thread batches up
// to max_samples_per_send samples (or whatever it has after batch_send_deadline), encodes and
// snappy-compresses them and sends them through its Transport, retrying retryable failures with
// capped exponential backoff (or Retry-After) until delivered, dropped, or Stop().
//
// Nothing is copied beyond the batches in flight and the bounded shard queues
// (queue_config.capacity samples each): when the receiver is slow the reader simply waits
// and the WAL grows on disk; scraping never blocks on us.
//
// Acknowledgement: every WAL record read gets a sequence number. A record is acknowledged
// once every sample in it is delivered or dropped; the WAL position after the longest
// acknowledged prefix of records is the cursor. It is persisted (cursor.h) at most every
// cursor_sync_interval and on Flush/Stop, and reported to the WAL as this consumer's
// acknowledgement. After a restart, samples before the cursor are skipped, so nothing is
// lost and duplicates are bounded to what was in flight since the last persist.
//
// Shards: the count starts at min_shards and is re-evaluated every reshard_interval:
// doubled (up to max_shards) while the reader keeps waiting on full queues and sends
// succeed, lowered (down to min_shards) when caught up and the shards are mostly idle.
// Resharding drains the queues first, so per-series order is kept.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/labels.h"
#include "common/status.h"
#include "scraper/remotewrite/config.h"
#include "scraper/remotewrite/series_store.h"
#include "scraper/remotewrite/series_table.h"
#include "scraper/remotewrite/transport.h"
#include "scraper/remotewrite/wal_source.h"

namespace shardwise::remotewrite {

struct QueueOptions {
  EndpointConfig endpoint;
  Labels external_labels;  // includes the replica label when one is configured
  std::string cursor_dir;  // where <name>.cursor lives; empty: no persistence
  std::chrono::milliseconds cursor_sync_interval{1000};
  std::chrono::milliseconds reshard_interval{10000};
  std::chrono::milliseconds wal_poll_interval{200};  // longest wait for WAL appends
  std::function<int64_t()> now_ms;                   // wall clock in ms; null: system clock
  // Where the series' labels live, shared with the other endpoints' queues; null: a store
  // of this queue's own.
  std::shared_ptr<SeriesStore> series_store;
};

// Counters and gauges for metrics; a consistent-enough snapshot, not a transaction.
struct QueueStats {
  uint64_t samples_in = 0;            // read from the WAL at or after the resume cursor
  uint64_t samples_sent = 0;          // delivered (2xx)
  uint64_t samples_failed = 0;        // dropped on a non-retryable answer (4xx)
  uint64_t samples_retried = 0;       // resent after a retryable failure (counted per retry)
  uint64_t samples_dropped = 0;       // never sent: series unknown or relabeled away
  uint64_t wal_segments_skipped = 0;  // deleted by the size cap before we read them
  uint64_t bytes_sent = 0;            // compressed bytes delivered
  uint64_t batches_failed = 0;
  int64_t pending_samples = 0;  // in shard queues or in flight
  int64_t highest_read_timestamp_ms = 0;
  int64_t highest_sent_timestamp_ms = 0;  // newest sample the receiver acknowledged; 0: none
  // now - highest_sent_timestamp_ms: rises while nothing newer is acknowledged (an
  // outage); absent until the first sample is acknowledged.
  std::optional<double> lag_seconds;
  uint64_t requests_cancelled = 0;  // in flight when Stop() ran (drain deadline passed)
  int current_shards = 0;
  int desired_shards = 0;
  WalPosition cursor;  // last acknowledged position
  uint64_t series = 0;
};

class QueueManager {
 public:
  QueueManager(QueueOptions options, WalSource& wal, std::unique_ptr<Transport> transport);
  ~QueueManager();
  QueueManager(const QueueManager&) = delete;
  QueueManager& operator=(const QueueManager&) = delete;

  // Loads the cursor (Corruption if it is damaged) and starts the threads.
  Status Start();
  // Sends everything written to the WAL before the call and persists the cursor.
  // DeadlineExceeded when the deadline passes first (what was delivered stays delivered).
  Status Flush(std::chrono::steady_clock::time_point deadline);
  // Stops all threads without waiting for deliveries: requests in flight are cancelled
  // (counted in requests_cancelled), so Stop returns promptly even with a receiver that
  // never answers. Persists the cursor. Batches in flight are not acknowledged: they are
  // sent again after a restart. Idempotent.
  void Stop();

  QueueStats Stats() const;
  const std::string& name() const { return options_.endpoint.name; }
  const std::string& url() const { return options_.endpoint.url; }
  const std::string& source() const { return options_.endpoint.source; }
  // The name this queue acknowledges WAL positions under.
  std::string ConsumerName() const { return "remote_write/" + name(); }

 private:
  struct Item {
    const char* labels;  // a block held by series_ or retired_
    uint64_t ref;
    int64_t t_ms;
    double value;
    uint64_t seq;
  };
  struct Shard;

  void ReadLoop();
  void ProcessRecord(WalRecord& record);
  void DefineSeries(WalSeries& series);
  void ForgetSeries(uint64_t ref);
  // Releases the retired blocks no queued or in-flight item can point at any more: those
  // retired before the record with sequence number `min_pending`.
  void ReleaseRetired(uint64_t min_pending);
  // The smallest sequence number of a record with items queued or in flight (or the next
  // one to dispatch).
  uint64_t MinPendingSeq();
  bool Dispatch(std::vector<std::vector<Item>>& per_shard);
  void ShardLoop(Shard* shard);
  void SendBatch(Shard* shard, std::vector<Item>& batch);
  void CommitLoop();
  // Advances the acknowledged position; persists when `force` or the interval passed.
  void Commit(bool force);
  WalPosition AckedPosition();
  void StartShards(int n);
  void StopShards();
  void WakeShards();  // after flushing_ changed
  bool ShardsIdle();
  void Reshard(int n);
  int DesiredShards(double interval_s);
  void Persist(WalPosition pos);
  bool FlushDone(WalPosition target, uint64_t caught_up_epoch);

  const QueueOptions options_;
  WalSource& wal_;
  std::unique_ptr<Transport> transport_;
  std::string cursor_path_;
  WalPosition resume_from_;

  std::shared_ptr<SeriesStore> store_;
  uint32_t view_ = 0;  // in store_

  // Reader-thread state.
  SeriesTable series_;  // blocks held in store_; a null block: dropped by relabeling
  // Redefined or removed blocks: items of records before `seq` may still point at them;
  // released once those are sent (in seq order).
  struct Retired {
    uint64_t ref;
    const char* block;
    uint64_t seq;
  };
  std::vector<Retired> retired_;
  uint64_t records_since_release_ = 0;
  std::vector<std::vector<Item>> per_shard_;
  uint64_t next_seq_ = 1;

  std::shared_mutex shards_mu_;  // guards the vector; the reader alone replaces it
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<int> desired_shards_{1};

  std::atomic<uint64_t> dispatched_seq_{0};  // all items of records <= this are queued
  std::mutex positions_mu_;
  std::deque<std::pair<uint64_t, WalPosition>> positions_;  // seq -> position after it

  mutable std::mutex commit_mu_;
  WalPosition acked_;      // guarded by commit_mu_
  WalPosition persisted_;  // guarded by commit_mu_
  std::chrono::steady_clock::time_point last_persist_;
  std::chrono::steady_clock::time_point last_persist_error_log_{};  // guarded by commit_mu_

  std::mutex progress_mu_;  // with progress_cv_: wakes Flush and the committer
  std::condition_variable progress_cv_;
  std::atomic<int> flushing_{0};  // >0: shards send partial batches at once
  std::atomic<bool> stop_{false};
  std::atomic<bool> caught_up_{false};
  std::atomic<uint64_t> caught_up_epoch_{0};  // times the reader found nothing new
  std::atomic<int64_t> reader_blocked_us_{0};
  std::atomic<int64_t> send_busy_us_{0};
  std::atomic<int64_t> last_success_ms_{0};
  std::atomic<int64_t> last_failure_ms_{0};
  std::mutex drop_log_mu_;  // guards the two rate limiters below
  std::chrono::steady_clock::time_point last_drop_log_;
  std::chrono::steady_clock::time_point last_retry_log_;

  struct Counters {
    std::atomic<uint64_t> samples_in{0}, samples_sent{0}, samples_failed{0}, samples_retried{0},
        samples_dropped{0}, wal_segments_skipped{0}, bytes_sent{0}, batches_failed{0}, series{0},
        requests_cancelled{0};
    std::atomic<int64_t> pending{0}, highest_read_ts{0}, highest_sent_ts{0};
    std::atomic<int> current_shards{0};
  } counters_;

  std::thread reader_;
  std::thread committer_;
  bool started_ = false;
};

}  // namespace shardwise::remotewrite
