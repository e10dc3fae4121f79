#include "scraper/tsdb/db.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <limits>

#include "common/log/log.h"
#include "scraper/tsdb/metrics.h"

namespace shardwise::tsdb {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

// ---------------------------------------------------------------------------------------
// WalConsumer

void WalConsumer::SetAcknowledged(wal::Position pos) {
  std::lock_guard lock(mu_);
  acked_ = std::max(acked_, pos);
}

wal::Position WalConsumer::acknowledged() const {
  std::lock_guard lock(mu_);
  return acked_;
}

// ---------------------------------------------------------------------------------------
// Appender

int64_t SaturatingSub(int64_t a, int64_t b) {
  return a < std::numeric_limits<int64_t>::min() + b ? std::numeric_limits<int64_t>::min() : a - b;
}

// The newest timestamp each series has in the batch being built, for the in-batch
// out-of-order and duplicate checks. Open addressing over a power-of-two array; Clear()
// bumps a generation instead of touching the slots, so a recycled table costs nothing per
// batch and nothing per sample once it has grown to the batch size.
class BatchMaxTimes {
 public:
  // The slot for `ref`: its newest time so far and whether the batch had it already.
  std::pair<int64_t*, bool> FindOrInsert(SeriesRef ref, int64_t t) {
    if ((used_ + 1) * 2 > slots_.size()) Grow();
    const size_t mask = slots_.size() - 1;
    for (size_t i = Mix(ref) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.gen != gen_) {
        s = {ref, t, gen_};
        ++used_;
        return {&s.t, false};
      }
      if (s.ref == ref) return {&s.t, true};
    }
  }
  void Clear() {
    used_ = 0;
    if (++gen_ == 0) {  // wrapped: stale slots could look current
      for (Slot& s : slots_) s.gen = 0;
      gen_ = 1;
    }
  }

 private:
  struct Slot {
    SeriesRef ref = 0;
    int64_t t = 0;
    uint32_t gen = 0;
  };
  static uint64_t Mix(uint64_t x) { return (x * 0x9E3779B97F4A7C15ULL) >> 17; }
  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
    const uint32_t gen = gen_;
    gen_ = 1;
    used_ = 0;
    for (const Slot& s : old) {
      if (s.gen == gen) *FindOrInsert(s.ref, s.t).first = s.t;
    }
  }

  std::vector<Slot> slots_;
  size_t used_ = 0;
  uint32_t gen_ = 1;
};

// What an appender buffers. DB recycles these between appenders (one per scrape), so a
// scrape in steady state allocates nothing per sample.
struct AppendScratch {
  std::vector<SampleRecord> pending;
  std::vector<SeriesRef> maybe_unlogged;
  BatchMaxTimes pending_max;
};

std::unique_ptr<AppendScratch> DB::TakeScratch() {
  std::lock_guard lock(scratch_mu_);
  if (scratch_pool_.empty()) return std::make_unique<AppendScratch>();
  std::unique_ptr<AppendScratch> s = std::move(scratch_pool_.back());
  scratch_pool_.pop_back();
  return s;
}

void DB::ReturnScratch(std::unique_ptr<AppendScratch> s) {
  // Enough for every concurrent scrape; a batch far above the usual size gives its
  // memory back rather than pinning it.
  constexpr size_t kMaxPooled = 64;
  constexpr size_t kMaxPooledSamples = 1 << 20;
  if (s->pending.capacity() > kMaxPooledSamples) return;
  s->pending.clear();
  s->maybe_unlogged.clear();
  s->pending_max.Clear();
  std::lock_guard lock(scratch_mu_);
  if (scratch_pool_.size() < kMaxPooled) scratch_pool_.push_back(std::move(s));
}

class DBAppender : public storage::Appender {
 public:
  explicit DBAppender(DB* db)
      : db_(db), window_(db->options_.out_of_bounds_window.count()), scratch_(db->TakeScratch()) {
    // Fixed for the appender's life, as in Prometheus: concurrent commits moving the
    // head's max time do not change what this batch may hold.
    HeadStats hs = db_->head_.Stats();
    if (hs.max_time != std::numeric_limits<int64_t>::min()) {
      min_valid_ = SaturatingSub(hs.max_time, window_);
    }
  }
  ~DBAppender() override { db_->ReturnScratch(std::move(scratch_)); }

  Status Append(storage::SeriesRef& ref, const Labels& labels, int64_t t_ms, double v) override {
    auto& m = TsdbMetrics::Get();
    if (!min_valid_) {
      // An empty head: the first sample sets its time range (as Prometheus's initTime).
      min_valid_ = SaturatingSub(std::min(t_ms, db_->head_.TimeCeiling()), window_);
    }
    if (t_ms < *min_valid_) {
      m.out_of_bound.Inc();
      return Status::InvalidArgument(std::string(storage::kErrOutOfBounds) + ": sample at " +
                                     std::to_string(t_ms) + " is older than the head accepts (" +
                                     std::to_string(*min_valid_) + ")");
    }
    bool needs_record = false;
    AppendOutcome outcome = AppendOutcome::kNotFound;
    if (ref != 0) outcome = db_->head_.Check(ref, t_ms, &needs_record);
    if (outcome == AppendOutcome::kNotFound) {
      if (labels.empty()) return Status::NotFound("unknown series ref " + std::to_string(ref));
      bool created = false;
      auto got = db_->head_.GetOrCreate(labels, &created);
      if (!got.ok()) {
        if (got.status().code() == Status::Code::kResourceExhausted) m.series_limit_hits.Inc();
        return got.status();
      }
      if (created) m.series_created.Inc();
      ref = *got;
      outcome = db_->head_.Check(ref, t_ms, &needs_record);
    }
    if (outcome == AppendOutcome::kOk) {
      // Samples of this batch are not in the head yet: compare with them too. A scrape
      // appends its series in exposition order, which is ref order once they exist; while
      // refs only grow none can repeat, so the table (a cache miss per sample) is skipped
      // until a ref comes again or out of order, and then filled from the batch.
      if (ascending_ && ref > last_ref_) {
        last_ref_ = ref;
      } else {
        if (ascending_) {
          ascending_ = false;
          for (const SampleRecord& p : scratch_->pending) {
            scratch_->pending_max.FindOrInsert(p.ref, p.t);
          }
        }
        auto [max_t, seen] = scratch_->pending_max.FindOrInsert(ref, t_ms);
        if (seen) {
          if (t_ms < *max_t) outcome = AppendOutcome::kOutOfOrder;
          if (t_ms == *max_t) outcome = AppendOutcome::kDuplicate;
          if (outcome == AppendOutcome::kOk) *max_t = t_ms;
        }
      }
    }
    if (outcome == AppendOutcome::kOutOfOrder) {
      m.out_of_order.Inc();
      return Status::InvalidArgument(std::string(storage::kErrOutOfOrder) + " at " +
                                     std::to_string(t_ms));
    }
    if (outcome == AppendOutcome::kDuplicate) {
      m.duplicates.Inc();
      return Status::InvalidArgument(std::string(storage::kErrDuplicate) + " at " +
                                     std::to_string(t_ms));
    }
    scratch_->pending.push_back({ref, t_ms, v});
    if (needs_record) scratch_->maybe_unlogged.push_back(ref);
    return Status::OK();
  }

  Status Commit() override {
    Status st = db_->CommitBatch(scratch_->pending, scratch_->maybe_unlogged);
    Reset();
    return st;
  }

  void Rollback() override {
    // Series created for this batch stay in the head without samples; retention removes
    // them once they have been idle for the retention period.
    Reset();
  }

 private:
  void Reset() {
    scratch_->pending.clear();
    scratch_->maybe_unlogged.clear();
    scratch_->pending_max.Clear();
    ascending_ = true;
    last_ref_ = 0;
  }

  DB* db_;
  const int64_t window_;
  std::optional<int64_t> min_valid_;
  std::unique_ptr<AppendScratch> scratch_;
  bool ascending_ = true;  // every accepted sample's ref so far above the one before
  SeriesRef last_ref_ = 0;
};

// ---------------------------------------------------------------------------------------
// Open, replay, close

DB::DB(std::string dir, DBOptions options, std::unique_ptr<ChunkFiles> chunk_files)
    : dir_(std::move(dir)),
      wal_dir_(dir_ + "/wal"),
      options_(options),
      chunk_files_(std::move(chunk_files)),
      head_(Head::Options{.max_series = options.max_series,
                          .future_grace_ms = options.future_grace.count(),
                          .now_ms = options.now_ms,
                          .chunk_files = chunk_files_.get()}) {}

Result<std::unique_ptr<DB>> DB::Open(std::string dir, DBOptions options) {
  // A cap smaller than a few segments could never be kept (the segment being written is
  // never deleted): size segments from the cap.
  if (options.max_wal_bytes > 0 && options.wal_segment_size > options.max_wal_bytes / 4) {
    const uint64_t adjusted = std::max<uint64_t>(options.max_wal_bytes / 4, 1024);
    log::Warn("WAL segment size lowered to a quarter of the WAL size cap",
              {{"segment_size", options.wal_segment_size},
               {"max_wal_bytes", options.max_wal_bytes},
               {"adjusted_segment_size", adjusted}});
    options.wal_segment_size = adjusted;
  }
  std::unique_ptr<ChunkFiles> chunk_files;
  if (options.chunks_on_disk) {
    auto files = ChunkFiles::Open(dir + "/chunks_head");
    if (!files.ok()) return files.status();
    chunk_files = std::move(*files);
  }
  std::unique_ptr<DB> db(new DB(std::move(dir), options, std::move(chunk_files)));
  std::error_code ec;
  std::filesystem::create_directories(db->wal_dir_, ec);
  if (ec) return Status::IOError("create " + db->wal_dir_ + ": " + ec.message());
  SHARDWISE_RETURN_IF_ERROR(db->Replay());
  auto writer = wal::Writer::Open(db->wal_dir_, {.segment_size = options.wal_segment_size});
  if (!writer.ok()) return writer.status();
  db->writer_ = std::move(*writer);
  db->wal_end_ = db->writer_->End();
  db->segment_max_t_.emplace(db->wal_end_.segment, std::numeric_limits<int64_t>::min());
  db->EnsureCheckpointReserve();
  TsdbMetrics::Get().wal_disk_full.Set(0);
  db->PublishGauges();
  if (options.fsync_policy == FsyncPolicy::kInterval) {
    db->sync_thread_ = std::thread([d = db.get()] { d->SyncLoop(); });
  }
  // Always: besides retention and the size cap it keeps the checkpoint reserve sized
  // and frees acknowledged segments when the disk is full.
  db->retention_thread_ = std::thread([d = db.get()] { d->RetentionLoop(); });
  return db;
}

DB::~DB() {
  {
    std::lock_guard lock(loop_mu_);
    stopping_ = true;
  }
  loop_cv_.notify_all();
  {
    std::lock_guard lock(cap_mu_);
    cap_stopping_ = true;
  }
  cap_cv_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
  if (retention_thread_.joinable()) retention_thread_.join();
  std::lock_guard lock(commit_mu_);
  if (writer_ && dirty_) writer_->Sync();
}

Status DB::Replay() {
  auto start = Clock::now();
  auto& m = TsdbMetrics::Get();
  uint32_t first_segment = 0;
  // ref -> ref for series logged twice under different refs (removed and re-created).
  std::unordered_map<SeriesRef, SeriesRef> remap;
  auto create = [&](const SeriesRecord& rec) -> Status {
    auto ref = head_.CreateWithRef(rec.ref, rec.labels);
    if (!ref.ok()) return ref.status();
    if (*ref != rec.ref) remap[rec.ref] = *ref;
    return Status::OK();
  };

  auto checkpoint = LatestCheckpoint(wal_dir_);
  if (!checkpoint.ok()) return checkpoint.status();
  if (*checkpoint) {
    std::vector<SeriesRecord> series;
    Status st = ReadCheckpoint((*checkpoint)->path, &series);
    if (!st.ok()) {
      // Checkpoints are renamed into place whole; damage means the disk lied. Keep what
      // decoded and carry on: samples of unknown refs are counted and skipped below.
      m.wal_corruptions.Inc();
      log::Error("WAL checkpoint damaged", {{"path", (*checkpoint)->path}, {"err", st}});
    }
    for (const auto& rec : series) {
      Status cs = create(rec);
      if (!cs.ok()) log::Warn("checkpoint series skipped", {{"err", cs}});
    }
    first_segment = (*checkpoint)->last_segment + 1;
    // Segments a crash left behind between checkpointing and deleting.
    auto segments = wal::ListSegments(wal_dir_);
    if (segments.ok()) {
      for (uint32_t s : *segments) {
        if (s < first_segment) std::filesystem::remove(wal::SegmentPath(wal_dir_, s));
      }
    }
  }

  uint64_t unknown_refs = 0;
  // A record that passed its CRC but does not decode was written by a buggy or newer
  // version: skip it (counted and logged) rather than refuse to start.
  auto skip = [&](wal::Position at, const Status& why) {
    m.wal_corruptions.Inc();
    log::Error("WAL record skipped", {{"at", at.ToString()}, {"err", why}});
    return Status::OK();
  };
  std::vector<SeriesRecord> series;
  std::vector<SampleRecord> samples;
  auto report =
      wal::Replay(wal_dir_, {.first_segment = first_segment, .repair = true},
                  [&](wal::Position at, std::string_view payload) -> Status {
                    switch (PeekRecordType(payload)) {
                      case RecordType::kSeries: {
                        series.clear();
                        Status st = DecodeSeries(payload, &series);
                        if (!st.ok()) return skip(at, st);
                        for (const auto& rec : series) {
                          Status cs = create(rec);
                          if (!cs.ok())
                            log::Warn("WAL series skipped", {{"at", at.ToString()}, {"err", cs}});
                        }
                        break;
                      }
                      case RecordType::kSamples: {
                        samples.clear();
                        Status st = DecodeSamples(payload, &samples);
                        if (!st.ok()) return skip(at, st);
                        int64_t max_t = std::numeric_limits<int64_t>::min();
                        for (auto& s : samples) {
                          if (!remap.empty()) {
                            auto it = remap.find(s.ref);
                            if (it != remap.end()) s.ref = it->second;
                          }
                          max_t = std::max(max_t, s.t);
                        }
                        uint64_t rejected = 0;
                        head_.AppendBatch(samples, &rejected);
                        unknown_refs += rejected;
                        auto [it, inserted] = segment_max_t_.emplace(at.segment, max_t);
                        if (!inserted) it->second = std::max(it->second, max_t);
                        break;
                      }
                      case RecordType::kSeriesRemoved:
                        // For WAL consumers; the head drops such series again by retention.
                        break;
                      default:
                        return skip(at, Status::Corruption("unknown record type"));
                    }
                    return Status::OK();
                  });
  if (!report.ok()) return report.status();
  replay_report_ = std::move(*report);
  for (uint32_t s : replay_report_.segments) {
    segment_max_t_.emplace(s, std::numeric_limits<int64_t>::min());
  }
  for (const auto& d : replay_report_.damage) {
    m.wal_corruptions.Inc();
    log::Error("WAL damage found on replay", {{"detail", d.ToString()}});
  }
  double seconds = SecondsSince(start);
  m.replay_seconds.Set(seconds);
  HeadStats hs = head_.Stats();
  log::Info("WAL replayed", {{"dir", wal_dir_},
                             {"segments", replay_report_.segments.size()},
                             {"records", replay_report_.records},
                             {"series", hs.series},
                             {"samples", hs.samples_appended},
                             {"rejected_samples", unknown_refs},
                             {"seconds", seconds}});
  return Status::OK();
}

// ---------------------------------------------------------------------------------------
// Writing

std::unique_ptr<storage::Appender> DB::NewAppender() { return std::make_unique<DBAppender>(this); }

Status DB::CommitBatch(std::vector<SampleRecord>& samples, std::vector<SeriesRef>& maybe_unlogged) {
  if (samples.empty()) return Status::OK();
  auto& m = TsdbMetrics::Get();
  std::unique_lock lock(commit_mu_);
  // Another appender may have committed newer samples of the same series since these
  // were checked: the WAL must hold only what the head accepts.
  uint64_t late = 0, repeated = 0;
  head_.PrepareBatch(&samples, &prepared_, &late, &repeated);
  if (late > 0) m.out_of_order.Inc(static_cast<double>(late));
  if (repeated > 0) m.duplicates.Inc(static_cast<double>(repeated));
  if (samples.empty()) return Status::OK();
  std::vector<SeriesRef> new_series;
  for (SeriesRef ref : maybe_unlogged) {
    if (head_.MarkSeriesLogged(ref)) new_series.push_back(ref);
  }
  std::vector<std::string_view> payloads;
  series_buf_.clear();
  samples_buf_.clear();
  if (!new_series.empty()) {
    head_.EncodeSeriesRecord(new_series, &series_buf_);
    payloads.push_back(series_buf_);
  }
  EncodeSamples(samples, &samples_buf_);
  payloads.push_back(samples_buf_);
  wal::Position start;
  uint64_t before = writer_->bytes_written();
  Status st = writer_->Write(payloads, &start);
  if (st.ok() && options_.fsync_policy == FsyncPolicy::kEveryBatch) {
    auto t0 = Clock::now();
    st = writer_->Sync();
    m.wal_fsync_seconds.Observe(SecondsSince(t0));
  }
  if (!st.ok()) {
    m.wal_write_failures.Inc();
    // The series records did not make it; the next batch must write them.
    for (SeriesRef ref : new_series) head_.MarkSeriesLogged(ref, false);
    const bool no_space = writer_->last_error_no_space();
    NoteWalFailure(st, no_space);
    if (no_space && writer_->End().offset > 0) {
      // Close the partly filled segment (a new empty file needs no data blocks), so it
      // can be deleted once every consumer has acknowledged it.
      writer_->NextSegment();
    }
    if (writer_->End() != wal_end_) {  // a new segment (here or after a partial write)
      wal_end_ = writer_->End();
      segment_max_t_.emplace(wal_end_.segment, std::numeric_limits<int64_t>::min());
    }
    lock.unlock();
    RequestCapCheck();  // frees acknowledged segments
    return st;
  }
  if (wal_failing_.load(std::memory_order_relaxed)) NoteWalSuccess();
  dirty_ = options_.fsync_policy != FsyncPolicy::kEveryBatch;
  m.wal_bytes.Inc(static_cast<double>(writer_->bytes_written() - before));
  int64_t max_t = std::numeric_limits<int64_t>::min();
  for (const auto& s : samples) max_t = std::max(max_t, s.t);
  auto [it, inserted] = segment_max_t_.emplace(start.segment, max_t);
  if (!inserted) it->second = std::max(it->second, max_t);
  if (inserted) m.wal_segments.Set(static_cast<double>(segment_max_t_.size()));

  HeadStats before_stats = head_.Stats();
  head_.AppendPrepared(samples, prepared_);
  HeadStats after = head_.Stats();
  wal_end_ = writer_->End();
  const bool wake = std::any_of(wal_wake_at_.begin(), wal_wake_at_.end(),
                                [&](const wal::Position& at) { return at <= wal_end_; });
  lock.unlock();
  if (wake) wal_cv_.notify_all();
  // A new segment: the closed ones may now exceed the cap, and the checkpoint reserve
  // may need to grow. Done in the background so a commit never waits for either.
  if (inserted) RequestCapCheck();

  m.commits.Inc();
  m.samples_appended.Inc(
      static_cast<double>(after.samples_appended - before_stats.samples_appended));
  m.head_series.Set(static_cast<double>(after.series));
  m.head_chunks.Set(static_cast<double>(after.chunks));
  m.head_max_time.Set(static_cast<double>(after.max_time));
  return Status::OK();
}

std::string WalHealth::ToString() const {
  if (!writes_failing) return "";
  return std::string(disk_full ? "WAL disk full" : "WAL writes failing") + " since " +
         std::to_string(failing_since_ms) + " (Unix ms): " + std::to_string(failed_commits) +
         " commits not stored; last error: " + error;
}

WalHealth DB::wal_health() const {
  std::lock_guard lock(commit_mu_);
  return health_;
}

void DB::NoteWalFailure(const Status& st, bool no_space) {
  auto now = Clock::now();
  if (!health_.writes_failing || health_.disk_full != no_space) {
    health_.writes_failing = true;
    health_.disk_full = no_space;
    health_.failing_since_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
    health_.failed_commits = 0;
    wal_failing_ = true;
    last_failure_summary_ = now;
    failures_since_summary_ = 0;
    TsdbMetrics::Get().wal_disk_full.Set(no_space ? 1 : 0);
    log::Error(no_space ? "WAL disk full: scrapes are not stored until space is freed; "
                          "acknowledged WAL segments are being deleted"
                        : "WAL writes failing: scrapes are not stored",
               {{"dir", wal_dir_}, {"err", st}});
  }
  health_.error = st.ToString();
  ++health_.failed_commits;
  ++failures_since_summary_;
  // One summary line every 5 minutes while it lasts, not one per scrape.
  if (now - last_failure_summary_ >= std::chrono::minutes(5)) {
    log::Error("WAL writes still failing",
               {{"dir", wal_dir_},
                {"failed_commits_since_last_log", failures_since_summary_},
                {"failed_commits", health_.failed_commits},
                {"disk_full", no_space},
                {"err", st}});
    last_failure_summary_ = now;
    failures_since_summary_ = 0;
  }
}

void DB::NoteWalSuccess() {
  log::Info("WAL writes resumed", {{"dir", wal_dir_},
                                   {"failed_commits", health_.failed_commits},
                                   {"failing_since_ms", health_.failing_since_ms}});
  health_ = WalHealth{};
  wal_failing_ = false;
  TsdbMetrics::Get().wal_disk_full.Set(0);
}

void DB::SyncLoop() {
  auto& m = TsdbMetrics::Get();
  std::unique_lock loop_lock(loop_mu_);
  while (!loop_cv_.wait_for(loop_lock, options_.fsync_interval, [&] { return stopping_; })) {
    int fd = -1;
    {
      std::lock_guard lock(commit_mu_);
      if (!dirty_) continue;
      fd = writer_->DupFd();
      dirty_ = false;
    }
    if (fd < 0) continue;
    // Sync a duplicate descriptor outside the commit lock so appends never wait on disk.
    auto t0 = Clock::now();
    if (::fdatasync(fd) != 0) {
      m.wal_write_failures.Inc();
      std::lock_guard lock(commit_mu_);
      dirty_ = true;
    }
    m.wal_fsync_seconds.Observe(SecondsSince(t0));
    ::close(fd);
  }
}

wal::Position DB::WalEnd() const {
  std::lock_guard lock(commit_mu_);
  return wal_end_;
}

bool DB::WaitForWal(wal::Position pos, std::chrono::milliseconds timeout,
                    uint64_t min_bytes) const {
  // Past `pos` means at least one byte further in its segment, or any later segment.
  const wal::Position wake_at{pos.segment, pos.offset + std::max<uint64_t>(min_bytes, 1)};
  std::unique_lock lock(commit_mu_);
  wal_wake_at_.push_back(wake_at);
  wal_cv_.wait_for(lock, timeout, [&] { return wal_end_ >= wake_at; });
  wal_wake_at_.erase(std::find(wal_wake_at_.begin(), wal_wake_at_.end(), wake_at));
  return wal_end_ > pos;
}

uint32_t DB::FirstSegment() const {
  std::lock_guard lock(commit_mu_);
  return segment_max_t_.empty() ? wal_end_.segment : segment_max_t_.begin()->first;
}

std::shared_ptr<WalConsumer> DB::RegisterWalConsumer(const std::string& name) {
  auto consumer = std::shared_ptr<WalConsumer>(new WalConsumer(name));
  std::lock_guard lock(consumers_mu_);
  consumers_[name] = consumer;
  return consumer;
}

// ---------------------------------------------------------------------------------------
// Retention

void DB::RequestCapCheck() {
  {
    std::lock_guard lock(cap_mu_);
    cap_check_requested_ = true;
  }
  cap_cv_.notify_one();
}

void DB::RetentionLoop() {
  const auto interval = options_.retention_interval;
  auto next_retention = Clock::now() + interval;
  std::unique_lock lock(cap_mu_);
  while (!cap_stopping_) {
    auto woken = [&] { return cap_stopping_ || cap_check_requested_; };
    // While WAL writes fail, look every second for acknowledged segments to free.
    auto until = Clock::now() + std::chrono::seconds(1);
    if (interval.count() > 0 && (!wal_failing_ || next_retention < until)) until = next_retention;
    if (interval.count() > 0 || wal_failing_) {
      cap_cv_.wait_until(lock, until, woken);
    } else {
      cap_cv_.wait(lock, woken);
    }
    if (cap_stopping_) break;
    cap_check_requested_ = false;
    lock.unlock();
    const bool retention_due = interval.count() > 0 && Clock::now() >= next_retention;
    Result<RetentionResult> r = retention_due ? ApplyRetention() : EnforceWalSizeCap();
    if (retention_due) next_retention = Clock::now() + interval;
    if (!r.ok()) {
      // While the disk is full this may fail every second: say so once a minute.
      if (last_retention_error_log_ == Clock::time_point{} ||
          Clock::now() - last_retention_error_log_ >= std::chrono::minutes(1)) {
        log::Error("TSDB retention failed", {{"err", r.status()}});
        last_retention_error_log_ = Clock::now();
      }
    }
    lock.lock();
  }
}

Result<RetentionResult> DB::ApplyRetention() { return Retain(/*truncate_head=*/true); }

Result<RetentionResult> DB::EnforceWalSizeCap() {
  if (options_.max_wal_bytes == 0 && !wal_failing_) {
    // Serialised with checkpoints, which rename the reserve away.
    std::lock_guard retention_lock(retention_mu_);
    EnsureCheckpointReserve();
    return RetentionResult{};
  }
  return Retain(/*truncate_head=*/false);
}

uint64_t DB::CheckpointBytes() const {
  uint64_t total = 0;
  auto checkpoint = LatestCheckpoint(wal_dir_);
  if (checkpoint.ok() && checkpoint->has_value()) {
    auto size = wal::FileSize((*checkpoint)->path);
    if (size.ok()) total += *size;
  }
  auto reserve = wal::FileSize(CheckpointReservePath(wal_dir_));
  if (reserve.ok()) total += *reserve;
  return total;
}

void DB::EnsureCheckpointReserve() {
  // What a checkpoint of every series takes (label_bytes overestimates it) plus a quarter
  // for series created before the next pass regrows it.
  const uint64_t label_bytes = head_.Stats().label_bytes;
  const uint64_t want = label_bytes + label_bytes / 4 + 512;
  Status st = tsdb::EnsureCheckpointReserve(wal_dir_, want);
  if (!st.ok()) log::Debug("WAL checkpoint reserve not grown yet", {{"err", st}});
}

uint64_t DB::WalBytes() const {
  std::vector<uint32_t> segments;
  {
    std::lock_guard lock(commit_mu_);
    for (const auto& [segment, max_t] : segment_max_t_) segments.push_back(segment);
  }
  uint64_t total = CheckpointBytes();
  for (uint32_t segment : segments) {
    auto size = wal::FileSize(wal::SegmentPath(wal_dir_, segment));
    if (size.ok()) total += *size;
  }
  return total;
}

Result<RetentionResult> DB::Retain(bool truncate_head) {
  auto& m = TsdbMetrics::Get();
  std::lock_guard retention_lock(retention_mu_);
  RetentionResult result;
  HeadStats hs = head_.Stats();
  const bool empty_head = hs.max_time == std::numeric_limits<int64_t>::min();
  const bool failing = wal_failing_;
  if (empty_head && options_.max_wal_bytes == 0 && !failing) return result;
  std::optional<int64_t> cutoff;
  if (!empty_head && truncate_head) {
    result.cutoff = hs.max_time - options_.retention.count();
    cutoff = result.cutoff;
    Head::TruncateResult truncated = head_.Truncate(result.cutoff);
    result.chunks_removed = truncated.chunks_removed;
    result.series_removed = truncated.series_removed.size();
    m.chunks_removed.Inc(static_cast<double>(truncated.chunks_removed));
    m.series_removed.Inc(static_cast<double>(truncated.series_removed.size()));
    std::unique_lock lock(commit_mu_);
    for (const auto& removed : truncated.series_removed) {
      removed_series_[removed.first] = {removed.second, wal_end_.segment};
    }
    if (!truncated.series_removed.empty() && LogSeriesRemoved(truncated.series_removed)) {
      lock.unlock();
      wal_cv_.notify_all();
    }
  }

  std::vector<std::pair<std::string, wal::Position>> acks;
  {
    std::lock_guard lock(consumers_mu_);
    for (auto it = consumers_.begin(); it != consumers_.end();) {
      if (auto c = it->second.lock()) {
        acks.emplace_back(c->name(), c->acknowledged());
        ++it;
      } else {
        it = consumers_.erase(it);
      }
    }
  }
  struct Segment {
    uint32_t number;
    int64_t max_t;
    uint64_t bytes = 0;
  };
  std::vector<Segment> closed;  // ascending; the segment being written is not in it
  uint64_t total = CheckpointBytes();
  {
    std::lock_guard lock(commit_mu_);
    for (const auto& [segment, max_t] : segment_max_t_) {
      if (segment < wal_end_.segment) closed.push_back({segment, max_t});
    }
    total += wal_end_.offset;  // the segment being written
  }
  for (Segment& s : closed) {
    auto size = wal::FileSize(wal::SegmentPath(wal_dir_, s.number));
    s.bytes = size.ok() ? *size : 0;
    total += s.bytes;
  }
  auto acknowledged_by = [&](const Segment& s, const wal::Position& p) {
    return p.segment > s.number || (p.segment == s.number && p.offset >= s.bytes);
  };

  // Retention: a prefix of segments older than the cutoff and consumed by everyone.
  size_t by_retention = 0;
  if (cutoff) {
    for (const Segment& s : closed) {
      if (s.max_t >= *cutoff) break;
      bool consumed = std::all_of(acks.begin(), acks.end(),
                                  [&](const auto& a) { return acknowledged_by(s, a.second); });
      if (!consumed) break;
      ++by_retention;
    }
  }
  // Writes failing (disk full): every segment all consumers are done with goes, whatever
  // the retention cutoff, to make room. The head keeps the samples.
  size_t by_ack = 0;
  if (failing) {
    for (const Segment& s : closed) {
      bool consumed = std::all_of(acks.begin(), acks.end(),
                                  [&](const auto& a) { return acknowledged_by(s, a.second); });
      if (!consumed) break;
      ++by_ack;
    }
  }
  // The size cap: the shortest prefix whose removal brings the rest under the cap.
  size_t by_cap = 0;
  if (options_.max_wal_bytes > 0) {
    uint64_t left = total;
    while (left > options_.max_wal_bytes && by_cap < closed.size()) left -= closed[by_cap++].bytes;
  }
  const size_t n = std::max({by_retention, by_cap, by_ack});
  if (n == 0) {
    EnsureCheckpointReserve();
    PublishGauges();
    m.wal_size_bytes.Set(static_cast<double>(total));
    if (truncate_head) {
      log::Info("TSDB retention applied", {{"cutoff_ms", result.cutoff},
                                           {"chunks_removed", result.chunks_removed},
                                           {"series_removed", result.series_removed},
                                           {"segments_deleted", 0}});
    }
    return result;
  }

  std::vector<uint32_t> deletable;
  std::vector<std::string> lagging;
  std::vector<uint32_t> unacknowledged;
  std::map<uint32_t, uint64_t> bytes_of;
  for (size_t i = 0; i < n; ++i) {
    deletable.push_back(closed[i].number);
    bytes_of[closed[i].number] = closed[i].bytes;
    bool unacked = false;
    for (const auto& [name, pos] : acks) {
      if (acknowledged_by(closed[i], pos)) continue;
      unacked = true;
      if (std::find(lagging.begin(), lagging.end(), name) == lagging.end()) lagging.push_back(name);
    }
    if (unacked) unacknowledged.push_back(closed[i].number);
  }
  SHARDWISE_RETURN_IF_ERROR(DeleteSegments(deletable, &result));
  EnsureCheckpointReserve();
  uint64_t deleted_bytes = 0;
  for (uint32_t segment : result.segments_deleted) {
    deleted_bytes += bytes_of[segment];
    if (std::binary_search(unacknowledged.begin(), unacknowledged.end(), segment)) {
      result.segments_dropped_unacknowledged.push_back(segment);
      result.bytes_dropped_unacknowledged += bytes_of[segment];
    }
  }
  std::sort(lagging.begin(), lagging.end());
  result.lagging_consumers = std::move(lagging);
  m.wal_size_bytes.Set(static_cast<double>(total - deleted_bytes));
  if (!result.segments_dropped_unacknowledged.empty()) {
    m.wal_segments_dropped_unacknowledged.Inc(
        static_cast<double>(result.segments_dropped_unacknowledged.size()));
    m.wal_bytes_dropped_unacknowledged.Inc(
        static_cast<double>(result.bytes_dropped_unacknowledged));
    LogUnacknowledgedDrop(result);
  }
  PublishGauges();
  if (truncate_head || !result.segments_deleted.empty()) {
    log::Info("TSDB retention applied",
              {{"cutoff_ms", result.cutoff},
               {"chunks_removed", result.chunks_removed},
               {"series_removed", result.series_removed},
               {"segments_deleted", result.segments_deleted.size()},
               {"by_size_cap", by_cap > by_retention},
               {"to_free_space", by_ack > std::max(by_cap, by_retention)}});
  }
  return result;
}

Status DB::DeleteSegments(const std::vector<uint32_t>& segments, RetentionResult* result) {
  auto& m = TsdbMetrics::Get();
  uint32_t last = segments.back();
  // Everything live in the head, plus removed series that later segments may mention.
  std::vector<SeriesRecord> keep;
  head_.ForEachSeries([&](SeriesRef ref, const Labels& labels) { keep.push_back({ref, labels}); });
  for (auto it = removed_series_.begin(); it != removed_series_.end();) {
    if (it->second.second <= last) {
      it = removed_series_.erase(it);
    } else {
      keep.push_back({it->first, it->second.first});
      ++it;
    }
  }
  std::sort(keep.begin(), keep.end(),
            [](const SeriesRecord& a, const SeriesRecord& b) { return a.ref < b.ref; });
  Status st = WriteCheckpoint(wal_dir_, last, keep);
  if (!st.ok()) {
    m.checkpoint_failures.Inc();
    return st.WithContext("WAL checkpoint");
  }
  m.checkpoint_runs.Inc();
  result->checkpoint = last;
  {
    // Forget the segments before removing them, so FirstSegment() never names a file
    // that is gone: a consumer that lost its place resumes there. A file that fails to
    // go is covered by the checkpoint and removed by the next Open.
    std::lock_guard lock(commit_mu_);
    for (uint32_t segment : segments) segment_max_t_.erase(segment);
  }
  for (uint32_t segment : segments) {
    std::error_code ec;
    std::filesystem::remove(wal::SegmentPath(wal_dir_, segment), ec);
    if (ec) {
      log::Warn("WAL segment delete failed", {{"segment", segment}, {"err", ec.message()}});
      continue;
    }
    result->segments_deleted.push_back(segment);
  }
  m.wal_segments_deleted.Inc(static_cast<double>(result->segments_deleted.size()));
  return Status::OK();
}

bool DB::LogSeriesRemoved(const std::vector<std::pair<SeriesRef, Labels>>& removed) {
  std::vector<uint64_t> refs;
  refs.reserve(removed.size());
  for (const auto& r : removed) refs.push_back(r.first);
  std::sort(refs.begin(), refs.end());
  std::string payload;
  EncodeSeriesRemoved(refs, &payload);
  wal::Position start;
  Status st = writer_->Write(payload, &start);
  if (!st.ok()) {
    // Consumers then keep those series until they restart: memory, not data, is lost.
    log::Debug("WAL series-removed record not written", {{"err", st}});
    return false;
  }
  dirty_ = options_.fsync_policy != FsyncPolicy::kEveryBatch || dirty_;
  segment_max_t_.emplace(start.segment, std::numeric_limits<int64_t>::min());
  wal_end_ = writer_->End();
  return true;
}

void DB::LogUnacknowledgedDrop(const RetentionResult& result) {
  // Every drop is counted; the log says it at most once a minute, with the sum since the
  // last line, so an endless outage does not flood the log.
  unlogged_dropped_segments_ += result.segments_dropped_unacknowledged.size();
  unlogged_dropped_bytes_ += result.bytes_dropped_unacknowledged;
  auto now = Clock::now();
  if (last_cap_log_ != Clock::time_point{} && now - last_cap_log_ < std::chrono::minutes(1)) {
    return;
  }
  last_cap_log_ = now;
  std::string consumers;
  for (const auto& c : result.lagging_consumers) {
    if (!consumers.empty()) consumers += ",";
    consumers += c;
  }
  log::Error(
      "WAL size cap reached: deleted segments that WAL consumers have not acknowledged; "
      "their data is lost to those consumers",
      {{"max_wal_bytes", options_.max_wal_bytes},
       {"lagging_consumers", consumers},
       {"segments_dropped", unlogged_dropped_segments_},
       {"bytes_dropped", unlogged_dropped_bytes_},
       {"first_segment_kept", FirstSegment()}});
  unlogged_dropped_segments_ = 0;
  unlogged_dropped_bytes_ = 0;
}

void DB::PublishGauges() {
  auto& m = TsdbMetrics::Get();
  HeadStats hs = head_.Stats();
  m.head_series.Set(static_cast<double>(hs.series));
  m.head_chunks.Set(static_cast<double>(hs.chunks));
  if (hs.max_time != std::numeric_limits<int64_t>::min()) {
    m.head_min_time.Set(static_cast<double>(hs.min_time));
    m.head_max_time.Set(static_cast<double>(hs.max_time));
  }
  std::lock_guard lock(commit_mu_);
  m.wal_segments.Set(static_cast<double>(segment_max_t_.size()));
}

// ---------------------------------------------------------------------------------------
// Reading

std::vector<std::pair<SeriesRef, Labels>> DB::SelectSeries(
    const std::vector<std::vector<Matcher>>& selectors, int64_t mint, int64_t maxt) const {
  std::vector<SeriesRef> refs;
  for (const auto& matchers : selectors) {
    auto got = head_.Select(matchers);
    refs.insert(refs.end(), got.begin(), got.end());
  }
  std::sort(refs.begin(), refs.end());
  refs.erase(std::unique(refs.begin(), refs.end()), refs.end());
  std::vector<std::pair<SeriesRef, Labels>> out;
  for (SeriesRef ref : refs) {
    Labels labels;
    if (head_.HasSamplesIn(ref, mint, maxt) && head_.SeriesLabels(ref, &labels)) {
      out.emplace_back(ref, std::move(labels));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  return out;
}

std::vector<SeriesSamples> DB::Query(const std::vector<Matcher>& matchers, int64_t mint,
                                     int64_t maxt) const {
  constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();
  return *QueryBounded(matchers, mint, maxt, kUnlimited, kUnlimited);
}

Result<std::vector<SeriesSamples>> DB::QueryBounded(const std::vector<Matcher>& matchers,
                                                    int64_t mint, int64_t maxt, size_t max_series,
                                                    size_t max_samples) const {
  std::vector<SeriesSamples> out;
  size_t samples = 0;
  auto selected = SelectSeries({matchers}, mint, maxt);
  if (selected.size() > max_series) return Status::ResourceExhausted("series");
  for (auto& [ref, labels] : selected) {
    SeriesSamples s{std::move(labels), {}};
    head_.Samples(ref, mint, maxt, &s.samples);
    samples += s.samples.size();
    if (samples > max_samples) return Status::ResourceExhausted("samples");
    if (!s.samples.empty()) out.push_back(std::move(s));
  }
  return out;
}

std::vector<Labels> DB::Series(const std::vector<std::vector<Matcher>>& selectors, int64_t mint,
                               int64_t maxt) const {
  std::vector<Labels> out;
  for (auto& [ref, labels] : SelectSeries(selectors, mint, maxt)) out.push_back(std::move(labels));
  return out;
}

std::vector<std::string> DB::LabelNames(const std::vector<std::vector<Matcher>>& selectors,
                                        int64_t mint, int64_t maxt) const {
  if (selectors.empty()) return head_.LabelNames();
  std::vector<std::string> out;
  for (const auto& [ref, labels] : SelectSeries(selectors, mint, maxt)) {
    for (const auto& l : labels) out.push_back(l.name);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> DB::LabelValues(std::string_view name,
                                         const std::vector<std::vector<Matcher>>& selectors,
                                         int64_t mint, int64_t maxt) const {
  if (selectors.empty()) return head_.LabelValues(name);
  std::vector<std::string> out;
  for (const auto& [ref, labels] : SelectSeries(selectors, mint, maxt)) {
    std::string_view v = labels.Get(name);
    if (!v.empty()) out.emplace_back(v);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace shardwise::tsdb
