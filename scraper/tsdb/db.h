// DB: the scraper's embedded TSDB. It ties the WAL, the head and retention together:
//
//   Open(dir)   replays <dir>/wal (newest checkpoint, then the segments after it) into a
//               fresh head, repairing a torn tail, then starts a new segment.
//   Appender    buffers one scrape; Commit() writes the batch as one WAL write (a series
//               record for series the WAL has not seen, then one samples record), fsyncs
//               per the policy, then applies it to the head. Commits are serialised, so
//               the WAL order is the head order and replay rebuilds the same head.
//   Chunks      sealed head chunks go to <dir>/chunks_head (chunk_files.h) unless
//               chunks_on_disk is off; Open starts them afresh and replay rewrites them.
//   Retention   a background pass (or ApplyRetention()) drops head chunks older than
//               head max time - retention, and deletes WAL segments that are both older
//               than that and acknowledged by every registered WAL consumer, after
//               writing a checkpoint with the series records that must survive them.
//   Size cap    with max_wal_bytes set, the same pass (and a background check after every
//               segment cut) also deletes the oldest closed segments while the WAL on disk
//               (segments + checkpoint + the space reserved for the next checkpoint)
//               exceeds the cap, acknowledged or not: a dead receiver must not fill the
//               disk or block scraping. Dropping unacknowledged data is counted
//               (shardwise_tsdb_wal_{segments,bytes}_dropped_unacknowledged_total) and
//               logged, naming the lagging consumers. Under the cap nothing unacknowledged
//               is ever deleted. A segment size above a quarter of the cap is lowered to it.
//   Bounds      a sample older than the head's max time - out_of_bounds_window (Prometheus:
//               half the chunk range, 1 h) is rejected as out of bounds before anything
//               else; an empty head takes its first sample's time as its max time. The
//               head's time range never passes now + future_grace (see head.h). An
//               appender also rejects out-of-order and duplicate samples within its own
//               batch, and Commit re-checks against the head, so the WAL (and remote write)
//               carries exactly what the head accepted.
//   Disk full   a failed WAL write fails the commit (nothing of the batch is stored, as in
//               Prometheus); the state is exported (shardwise_tsdb_wal_disk_full,
//               wal_health(), one log line per change and a summary every 5 minutes), the
//               partly written segment is closed, and every pass while failing deletes the
//               closed segments every consumer has acknowledged, whatever the retention
//               cutoff. The checkpoint that must precede a deletion is written into space
//               reserved for it beforehand (wal/checkpoint.reserve), so it needs no free
//               space. Writes resume with the next commit once space is back.
//
// WAL consumers (remote write) tail <dir>/wal themselves with wal::Tailer. To start (or
// restart from a persisted cursor): read LatestCheckpoint() if any, then the segments from
// FirstSegment(), taking series records from all and samples only from the cursor on.
// WaitForWal() blocks until new records arrive. SetAcknowledged() on the handle tells the
// DB which segments the consumer no longer needs; until then they are kept on disk (up
// to the size cap). A consumer whose position was deleted goes on at FirstSegment() after
// re-reading LatestCheckpoint() for the labels of the series defined in the lost segments.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/labels.h"
#include "common/status.h"
#include "scraper/storage/appender.h"
#include "scraper/tsdb/checkpoint.h"
#include "scraper/tsdb/head.h"
#include "scraper/tsdb/index/matcher.h"
#include "scraper/tsdb/wal/reader.h"
#include "scraper/tsdb/wal/writer.h"

namespace shardwise::tsdb {

enum class FsyncPolicy {
  kEveryBatch,  // Commit returns after fdatasync: a committed batch survives power loss
  kInterval,    // a background thread syncs every fsync_interval; a power loss may lose
                // up to that much. A process crash loses nothing committed either way.
};

struct DBOptions {
  uint64_t wal_segment_size = 32ull << 20;
  FsyncPolicy fsync_policy = FsyncPolicy::kInterval;
  std::chrono::milliseconds fsync_interval{1000};
  std::chrono::milliseconds retention = std::chrono::hours(2);
  // How often the background retention pass runs; zero disables it (call
  // ApplyRetention() yourself).
  std::chrono::milliseconds retention_interval = std::chrono::minutes(1);
  size_t max_series = 0;  // 0: unlimited
  // Upper bound on the bytes of WAL segments on disk; 0: unlimited. Checked after every
  // segment cut and by each retention pass; the oldest closed segments go (checkpointed
  // first) until the rest fit, so the WAL stays within the cap plus the segment being
  // written. The checkpoint and the space reserved for the next one count too.
  uint64_t max_wal_bytes = 0;
  // Out-of-bounds limit: samples older than head max time - this are rejected.
  std::chrono::milliseconds out_of_bounds_window = std::chrono::hours(1);
  // How far past the wall clock the head's time range may move.
  std::chrono::milliseconds future_grace = std::chrono::minutes(10);
  std::function<int64_t()> now_ms;  // wall clock in ms; null: the system clock (tests set it)
  // Sealed head chunks in <dir>/chunks_head (page cache) rather than on the heap. The
  // files are rebuilt from the WAL on every Open.
  bool chunks_on_disk = true;
};

// The WAL's write health, for /readyz and logs.
struct WalHealth {
  bool writes_failing = false;
  bool disk_full = false;        // the failure is ENOSPC/EDQUOT
  std::string error;             // the last failure
  int64_t failing_since_ms = 0;  // Unix ms of the first failure of this episode
  uint64_t failed_commits = 0;   // in this episode
  std::string ToString() const;  // "" when healthy
};

struct SeriesSamples {
  Labels labels;
  std::vector<Sample> samples;
};

struct RetentionResult {
  int64_t cutoff = 0;
  uint64_t chunks_removed = 0;
  uint64_t series_removed = 0;
  std::vector<uint32_t> segments_deleted;
  std::optional<uint32_t> checkpoint;  // the checkpoint written, if any
  // Of segments_deleted, those the size cap took before every consumer acknowledged them,
  // their bytes, and the consumers that had not.
  std::vector<uint32_t> segments_dropped_unacknowledged;
  uint64_t bytes_dropped_unacknowledged = 0;
  std::vector<std::string> lagging_consumers;
};

class DB;
struct AppendScratch;

// A registered WAL consumer. Destroying the handle unregisters it; it may outlive the DB.
class WalConsumer {
 public:
  // Everything before `pos` has been processed (sent and acknowledged by the receiver).
  void SetAcknowledged(wal::Position pos);
  wal::Position acknowledged() const;
  const std::string& name() const { return name_; }

 private:
  friend class DB;
  struct AppendScratch;
  explicit WalConsumer(std::string name) : name_(std::move(name)) {}
  std::string name_;
  mutable std::mutex mu_;
  wal::Position acked_;
};

class DB : public storage::Appendable {
 public:
  static Result<std::unique_ptr<DB>> Open(std::string dir, DBOptions options);
  ~DB() override;
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;

  std::unique_ptr<storage::Appender> NewAppender() override;

  // --- reading ---
  // Series matching every matcher with their samples in [mint, maxt] (series without
  // samples in range are left out), sorted by labels.
  std::vector<SeriesSamples> Query(const std::vector<Matcher>& matchers, int64_t mint,
                                   int64_t maxt) const;
  // Query with bounds for untrusted callers: ResourceExhausted ("series" or "samples") as
  // soon as more than `max_series` series or `max_samples` samples would be returned, before
  // their samples are all loaded.
  Result<std::vector<SeriesSamples>> QueryBounded(const std::vector<Matcher>& matchers,
                                                  int64_t mint, int64_t maxt, size_t max_series,
                                                  size_t max_samples) const;
  // Label sets of the series matching any of the matcher sets with samples in range.
  std::vector<Labels> Series(const std::vector<std::vector<Matcher>>& selectors, int64_t mint,
                             int64_t maxt) const;
  // Names / values over the whole head, or over the series matching `selectors`.
  std::vector<std::string> LabelNames(const std::vector<std::vector<Matcher>>& selectors,
                                      int64_t mint, int64_t maxt) const;
  std::vector<std::string> LabelValues(std::string_view name,
                                       const std::vector<std::vector<Matcher>>& selectors,
                                       int64_t mint, int64_t maxt) const;

  // --- retention ---
  // Truncates the head, then deletes the WAL segments retention or the size cap allow.
  Result<RetentionResult> ApplyRetention();
  // Only the size cap: deletes the oldest closed segments while over max_wal_bytes. What
  // the background check runs after a segment cut; the head is not touched.
  Result<RetentionResult> EnforceWalSizeCap();
  // Bytes of the WAL on disk: segments, checkpoint and checkpoint reserve (the quantity
  // max_wal_bytes bounds).
  uint64_t WalBytes() const;
  WalHealth wal_health() const;

  // --- WAL consumers ---
  // Registers a consumer that holds back segment deletion until it acknowledges. A
  // second registration under the same name replaces the first.
  std::shared_ptr<WalConsumer> RegisterWalConsumer(const std::string& name);
  const std::string& wal_dir() const { return wal_dir_; }
  // The position just past the last committed record.
  wal::Position WalEnd() const;
  // Waits until the WAL extends past `pos` or `timeout` passes; true if it did. With
  // `min_bytes`, commits wake the caller only once the WAL reaches min_bytes past `pos` (or
  // a later segment): a consumer that reads in batches sleeps through the small commits in
  // between instead of being woken by each, and reads them all when it wakes.
  bool WaitForWal(wal::Position pos, std::chrono::milliseconds timeout,
                  uint64_t min_bytes = 0) const;
  // The oldest segment still on disk.
  uint32_t FirstSegment() const;

  const wal::ReplayReport& replay_report() const { return replay_report_; }
  const Head& head() const { return head_; }
  const DBOptions& options() const { return options_; }

 private:
  friend class DBAppender;
  DB(std::string dir, DBOptions options, std::unique_ptr<ChunkFiles> chunk_files);
  std::unique_ptr<AppendScratch> TakeScratch();
  void ReturnScratch(std::unique_ptr<AppendScratch> scratch);
  Status Replay();
  Result<RetentionResult> Retain(bool truncate_head);
  // Writes the checkpoint for `segments` (an ascending prefix of the closed segments) and
  // deletes them; fills the result's checkpoint and segments_deleted.
  Status DeleteSegments(const std::vector<uint32_t>& segments, RetentionResult* result);
  void LogUnacknowledgedDrop(const RetentionResult& result);
  // Under commit_mu_: writes a series-removed record so WAL consumers forget the series.
  // True when written.
  bool LogSeriesRemoved(const std::vector<std::pair<SeriesRef, Labels>>& removed);
  void RequestCapCheck();
  Status CommitBatch(std::vector<SampleRecord>& samples, std::vector<SeriesRef>& maybe_unlogged);
  // Under commit_mu_: a WAL write failed / succeeded (state changes are logged once).
  void NoteWalFailure(const Status& st, bool no_space);
  void NoteWalSuccess();
  // Bytes of the newest checkpoint and of the reserve.
  uint64_t CheckpointBytes() const;
  // Grows the checkpoint reserve to what a checkpoint of the head would need. Under
  // retention_mu_ (or before the background thread starts).
  void EnsureCheckpointReserve();
  void SyncLoop();
  void RetentionLoop();
  void PublishGauges();
  std::vector<std::pair<SeriesRef, Labels>> SelectSeries(
      const std::vector<std::vector<Matcher>>& selectors, int64_t mint, int64_t maxt) const;

  const std::string dir_;
  const std::string wal_dir_;
  const DBOptions options_;
  std::unique_ptr<ChunkFiles> chunk_files_;  // before head_, which uses it
  Head head_;
  // Buffers of finished appenders, for the next ones.
  std::mutex scratch_mu_;
  std::vector<std::unique_ptr<AppendScratch>> scratch_pool_;
  wal::ReplayReport replay_report_;

  // commit_mu_ serialises WAL writes and head application.
  mutable std::mutex commit_mu_;
  std::unique_ptr<wal::Writer> writer_;
  std::map<uint32_t, int64_t> segment_max_t_;  // newest sample time per segment
  bool dirty_ = false;                         // written but not yet fsynced
  std::string series_buf_, samples_buf_;
  Head::PreparedBatch prepared_;  // CommitBatch's, reused
  mutable std::condition_variable wal_cv_;
  // Where each thread in WaitForWal wants to be woken; a commit notifies wal_cv_ only when
  // it reaches one of them.
  mutable std::vector<wal::Position> wal_wake_at_;
  wal::Position wal_end_;

  // Series removed from the head whose refs may still appear in segments on disk:
  // they go into checkpoints until those segments are deleted.
  std::mutex retention_mu_;
  std::unordered_map<SeriesRef, std::pair<Labels, uint32_t>> removed_series_;
  // The rate limit of the size-cap error log and what it has not reported yet; guarded
  // by retention_mu_.
  std::chrono::steady_clock::time_point last_cap_log_{};
  uint64_t unlogged_dropped_segments_ = 0, unlogged_dropped_bytes_ = 0;

  mutable std::mutex consumers_mu_;
  std::map<std::string, std::weak_ptr<WalConsumer>> consumers_;

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stopping_ = false;
  std::thread sync_thread_;
  std::thread retention_thread_;
  // Wakes the retention thread for a size-cap check (set after a segment cut). Its own
  // lock: the commit path must never wait on loop_mu_, which SyncLoop holds across
  // fdatasync.
  std::mutex cap_mu_;
  std::condition_variable cap_cv_;
  bool cap_check_requested_ = false;  // guarded by cap_mu_
  bool cap_stopping_ = false;         // guarded by cap_mu_
  std::atomic<uint64_t> rejected_at_append_out_of_order_{0};

  // WAL write health; guarded by commit_mu_ (wal_failing_ is also read without it).
  std::atomic<bool> wal_failing_{false};
  WalHealth health_;
  std::chrono::steady_clock::time_point last_failure_summary_{};
  uint64_t failures_since_summary_ = 0;
  std::chrono::steady_clock::time_point last_retention_error_log_{};  // RetentionLoop only
};

}  // namespace shardwise::tsdb
