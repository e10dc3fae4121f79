#include "scraper/remotewrite/queue_manager.h"

#include <cstring>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/log/log.h"
#include "scraper/remotewrite/cursor.h"
#include "scraper/remotewrite/encoder.h"

namespace shardwise::remotewrite {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {

constexpr uint64_t kNoSeq = UINT64_MAX;

// Caught up, the reader sleeps until kReadBatchBytes of WAL were written or ReadBatchDelay
// passed, instead of being woken by every commit (a scrape of 2,000 samples commits ~25 KB);
// the shards wait that much less for a partial batch, so a sample still leaves within
// batch_send_deadline of its commit (docs/handoff.md relies on that bound).
constexpr uint64_t kReadBatchBytes = 1 << 20;
milliseconds ReadBatchDelay(const QueueConfig& q) {
  return std::min(q.batch_send_deadline / 5, milliseconds(1000));
}

int64_t NowMs() { return duration_cast<milliseconds>(Clock::now().time_since_epoch()).count(); }
int64_t WallMs() {
  return duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void AtomicMax(std::atomic<int64_t>& a, int64_t v) {
  int64_t cur = a.load(std::memory_order_relaxed);
  while (v > cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

}  // namespace

// A shard's queue: a ring that grows (doubling, up to the queue capacity) and never
// shrinks, so steady-state queueing allocates nothing (a std::deque allocates a block
// every dozen items).
template <typename T>
class Ring {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T& front() const { return buf_[head_]; }
  void Push(const T* items, size_t n) {
    if (size_ + n > buf_.size()) Grow(size_ + n);
    for (size_t i = 0; i < n; ++i) buf_[(head_ + size_ + i) % buf_.size()] = items[i];
    size_ += n;
  }
  // Moves the first n items to the end of `out`.
  void PopInto(size_t n, std::vector<T>* out) {
    for (size_t i = 0; i < n; ++i) out->push_back(buf_[(head_ + i) % buf_.size()]);
    head_ = (head_ + n) % buf_.size();
    size_ -= n;
  }

 private:
  void Grow(size_t need) {
    std::vector<T> next(std::max({need, buf_.size() * 2, size_t{256}}));
    for (size_t i = 0; i < size_; ++i) next[i] = buf_[(head_ + i) % buf_.size()];
    buf_.swap(next);
    head_ = 0;
  }
  std::vector<T> buf_;
  size_t head_ = 0, size_ = 0;
};

struct QueueManager::Shard {
  std::mutex mu;
  std::condition_variable has_work;   // items arrived, flush, stop
  std::condition_variable has_space;  // the reader may push again
  Ring<Item> queue;
  uint64_t inflight_min_seq = kNoSeq;
  Clock::time_point first_arrival;
  bool stop = false;
  std::thread thread;
  // Per-shard encoding buffers, reused across batches.
  WriteRequestEncoder encoder;
  SnappyBuffer snappy;
  std::vector<Sample> samples;
};

QueueManager::QueueManager(QueueOptions options, WalSource& wal,
                           std::unique_ptr<Transport> transport)
    : options_(std::move(options)), wal_(wal), transport_(std::move(transport)) {
  store_ = options_.series_store ? options_.series_store : std::make_shared<SeriesStore>();
  // Queues whose encoded labels are the same for every series share a view: same external
  // labels and no write relabeling. With relabeling, the endpoint's name keeps it apart.
  std::string view = options_.external_labels.ToString();
  if (!options_.endpoint.write_relabel_configs.empty()) {
    view += '\0';
    view += options_.endpoint.name;
  }
  view_ = store_->View(view);
  if (!options_.cursor_dir.empty()) {
    cursor_path_ = CursorPath(options_.cursor_dir, options_.endpoint.name);
  }
}

QueueManager::~QueueManager() { Stop(); }

Status QueueManager::Start() {
  if (!cursor_path_.empty()) {
    Result<std::optional<WalPosition>> cursor = LoadCursor(cursor_path_);
    if (!cursor.ok()) return cursor.status();
    if (cursor->has_value()) resume_from_ = **cursor;
  }
  if (WalPosition end = wal_.End(); resume_from_ > end) {
    // The WAL was recreated (data directory wiped but the cursor kept): everything in it
    // is new to the receiver. Resuming at the stale cursor would skip it all.
    log::Warn("remote write: cursor is past the end of the WAL; starting from its beginning",
              {{"remote_name", name()},
               {"cursor_segment", resume_from_.segment},
               {"wal_end_segment", end.segment}});
    resume_from_ = WalPosition{};
  }
  acked_ = persisted_ = resume_from_;
  last_persist_ = Clock::now();
  if (!cursor_path_.empty()) {
    // Create the cursor file now, while there is space: later stores rewrite it in place
    // and need none (a full disk must not stop acknowledgements from being persisted).
    std::error_code ec;
    std::filesystem::create_directories(options_.cursor_dir, ec);
    Status st = StoreCursor(cursor_path_, resume_from_);
    if (!st.ok()) {
      log::Warn("remote write: cannot create the cursor file yet",
                {{"remote_name", name()}, {"err", st}});
    }
  }
  // Register with the WAL before reading: retention must keep what we have not sent.
  wal_.Acknowledge(ConsumerName(), resume_from_);
  started_ = true;
  StartShards(options_.endpoint.queue.min_shards);
  desired_shards_ = options_.endpoint.queue.min_shards;
  reader_ = std::thread([this] { ReadLoop(); });
  committer_ = std::thread([this] { CommitLoop(); });
  log::Info("remote write queue started", {{"remote_name", name()},
                                           {"url", url()},
                                           {"resume_segment", resume_from_.segment},
                                           {"resume_offset", resume_from_.offset}});
  return Status::OK();
}

void QueueManager::Stop() {
  if (!started_ || stop_.exchange(true)) return;
  // The drain deadline is over: abort what is on the wire instead of waiting for it
  // (also a reshard in the reader may be waiting for a send).
  counters_.requests_cancelled += transport_->CancelAll();
  { std::lock_guard lock(progress_mu_); }
  progress_cv_.notify_all();
  {
    // Wake a reader waiting for queue space; locking each shard first means it cannot be
    // between checking stop_ and starting to wait.
    std::shared_lock lock(shards_mu_);
    for (auto& s : shards_) {
      { std::lock_guard l(s->mu); }
      s->has_space.notify_all();
    }
  }
  if (reader_.joinable()) reader_.join();  // the reader's waits all check stop_
  StopShards();
  if (committer_.joinable()) committer_.join();
  Commit(/*force=*/true);
  // Nothing reads the labels any more: let the store free what no other queue holds.
  ReleaseRetired(UINT64_MAX);
  series_.Clear([this](uint64_t ref, const char* block) {
    if (block) store_->Release(view_, ref, block);
  });
  counters_.series = 0;
  WalPosition cursor = Stats().cursor;
  log::Info("remote write queue stopped", {{"remote_name", name()},
                                           {"cursor_segment", cursor.segment},
                                           {"cursor_offset", cursor.offset}});
}

// ---- Reader ------------------------------------------------------------------------

void QueueManager::ReadLoop() {
  Result<WalPosition> start = wal_.ReadCheckpoint([this](WalSeries s) { DefineSeries(s); });
  while (!start.ok() && !stop_) {
    log::Error("remote write: cannot read the WAL checkpoint",
               {{"remote_name", name()}, {"err", start.status()}});
    wal_.WaitForAppend(wal_.End(), options_.wal_poll_interval);
    start = wal_.ReadCheckpoint([this](WalSeries s) { DefineSeries(s); });
  }
  if (stop_) return;
  std::unique_ptr<WalReader> reader = wal_.NewReader(*start);
  const milliseconds read_delay = ReadBatchDelay(options_.endpoint.queue);
  uint64_t skipped_seen = 0;
  Clock::time_point last_read_error_log;
  while (!stop_) {
    int desired = desired_shards_.load();
    if (desired != counters_.current_shards.load()) Reshard(desired);
    Result<std::optional<WalRecord>> next = reader->Next();
    if (uint64_t skipped = reader->skipped_segments(); skipped != skipped_seen) {
      counters_.wal_segments_skipped += skipped - skipped_seen;
      log::Error(
          "remote write: WAL segments were deleted before they were sent (size cap); "
          "their samples are lost for this endpoint",
          {{"remote_name", name()}, {"segments", skipped - skipped_seen}});
      skipped_seen = skipped;
    }
    if (!next.ok()) {
      if (Clock::now() - last_read_error_log > std::chrono::seconds(10)) {  // rate-limited
        last_read_error_log = Clock::now();
        log::Error("remote write: reading the WAL failed; retrying",
                   {{"remote_name", name()}, {"err", next.status()}});
      }
      wal_.WaitForAppend(wal_.End(), options_.wal_poll_interval);
      continue;
    }
    if (!next->has_value()) {
      caught_up_ = true;
      ++caught_up_epoch_;
      if (!retired_.empty()) ReleaseRetired(MinPendingSeq());
      if (read_delay > milliseconds(0) && flushing_ == 0) {
        wal_.WaitForAppend(wal_.End(), read_delay, kReadBatchBytes);
      } else {
        wal_.WaitForAppend(wal_.End(), options_.wal_poll_interval);
      }
      continue;
    }
    caught_up_ = false;
    ProcessRecord(**next);
    // While catching up on a long backlog the reader is never idle: release as it goes.
    if (!retired_.empty() && ++records_since_release_ >= 256) {
      records_since_release_ = 0;
      ReleaseRetired(MinPendingSeq());
    }
  }
}

void QueueManager::DefineSeries(WalSeries& s) {
  Labels labels = std::move(s.labels);
  if (!options_.external_labels.empty()) {
    // External labels never override a label the series already has.
    LabelsBuilder b(labels);
    for (const Label& l : options_.external_labels) {
      if (!labels.Has(l.name)) b.Set(l.name, l.value);
    }
    labels = b.Build();
  }
  if (!options_.endpoint.write_relabel_configs.empty()) {
    std::optional<Labels> relabeled = options_.endpoint.write_relabel_configs.Process(labels);
    labels = relabeled ? std::move(*relabeled) : Labels();  // empty: dropped
  }
  bool known = false;
  const char*& slot = series_.Define(s.ref, &known);
  if (known && slot && !labels.empty() && store_->Equal(slot, labels)) return;
  // Queued items may still point at the old labels: keep them until the queues drain.
  if (slot) retired_.push_back({s.ref, slot, next_seq_});
  slot = labels.empty() ? nullptr : store_->Acquire(view_, s.ref, labels);
  counters_.series = series_.size();
}

void QueueManager::ForgetSeries(uint64_t ref) {
  // Queued items may still point at the labels: keep them until the queues drain.
  if (const char* block = series_.Erase(ref)) retired_.push_back({ref, block, next_seq_});
  counters_.series = series_.size();
}

void QueueManager::ReleaseRetired(uint64_t min_pending) {
  // Items of a record before the retirement point at the block; the record being read when
  // it was retired (seq == r.seq) and later ones point at its successor or at nothing.
  size_t n = 0;
  while (n < retired_.size() && retired_[n].seq <= min_pending) {
    store_->Release(view_, retired_[n].ref, retired_[n].block);
    ++n;
  }
  retired_.erase(retired_.begin(), retired_.begin() + static_cast<std::ptrdiff_t>(n));
}

void QueueManager::ProcessRecord(WalRecord& record) {
  for (WalSeries& s : record.series) DefineSeries(s);
  for (uint64_t ref : record.removed) ForgetSeries(ref);
  if (record.at < resume_from_) return;  // delivered before the restart

  uint64_t seq = next_seq_++;
  if (!record.samples.empty()) {
    size_t n = shards_.size();
    std::vector<std::vector<Item>>& per_shard = per_shard_;  // reused: no allocation per record
    per_shard.resize(n);
    for (auto& items : per_shard) items.clear();
    uint64_t dropped = 0;
    int64_t highest = 0;
    for (const WalSample& s : record.samples) {
      const char** labels = series_.Find(s.ref);
      if (!labels || !*labels) {
        ++dropped;
        continue;
      }
      highest = std::max(highest, s.t_ms);
      per_shard[s.ref % n].push_back({*labels, s.ref, s.t_ms, s.value, seq});
    }
    counters_.samples_in += record.samples.size();
    counters_.samples_dropped += dropped;
    AtomicMax(counters_.highest_read_ts, highest);
    if (!Dispatch(per_shard)) return;  // stopping: this record stays unacknowledged
  }
  {
    std::lock_guard lock(positions_mu_);
    positions_.emplace_back(seq, record.next);
  }
  dispatched_seq_.store(seq, std::memory_order_release);
}

bool QueueManager::Dispatch(std::vector<std::vector<Item>>& per_shard) {
  const size_t capacity = static_cast<size_t>(options_.endpoint.queue.capacity);
  const size_t max_batch = static_cast<size_t>(options_.endpoint.queue.max_samples_per_send);
  for (size_t i = 0; i < per_shard.size(); ++i) {
    std::vector<Item>& items = per_shard[i];
    Shard& shard = *shards_[i];
    size_t done = 0;
    while (done < items.size()) {
      std::unique_lock lock(shard.mu);
      if (shard.queue.size() >= capacity) {
        auto blocked_since = Clock::now();
        shard.has_space.wait(lock, [&] { return stop_ || shard.queue.size() < capacity; });
        reader_blocked_us_ += duration_cast<microseconds>(Clock::now() - blocked_since).count();
        if (stop_) return false;
      }
      bool was_empty = shard.queue.empty();
      size_t n = std::min(items.size() - done, capacity - shard.queue.size());
      shard.queue.Push(items.data() + done, n);
      done += n;
      counters_.pending += static_cast<int64_t>(n);
      if (was_empty) shard.first_arrival = Clock::now();
      if (was_empty || shard.queue.size() >= max_batch) shard.has_work.notify_one();
    }
  }
  return true;
}

// ---- Shards ------------------------------------------------------------------------

void QueueManager::StartShards(int n) {
  std::unique_lock lock(shards_mu_);
  shards_.clear();
  for (int i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>());
  for (auto& s : shards_) s->thread = std::thread([this, s = s.get()] { ShardLoop(s); });
  counters_.current_shards = n;
}

void QueueManager::WakeShards() {
  std::shared_lock lock(shards_mu_);
  for (auto& s : shards_) {
    // Taking the lock first: a shard is either before its check of flushing_ or waiting.
    { std::lock_guard l(s->mu); }
    s->has_work.notify_all();
  }
}

void QueueManager::StopShards() {
  std::unique_lock lock(shards_mu_);
  for (auto& s : shards_) {
    {
      std::lock_guard l(s->mu);
      s->stop = true;
    }
    s->has_work.notify_all();
    s->has_space.notify_all();
  }
  for (auto& s : shards_) {
    if (s->thread.joinable()) s->thread.join();
  }
  // Shards are kept (not cleared) so AckedPosition still sees undelivered items.
}

bool QueueManager::ShardsIdle() {
  std::shared_lock lock(shards_mu_);
  for (auto& s : shards_) {
    std::lock_guard l(s->mu);
    if (!s->queue.empty() || s->inflight_min_seq != kNoSeq) return false;
  }
  return true;
}

void QueueManager::Reshard(int n) {
  // Drain first: a series must never have samples in two shards at once.
  ++flushing_;
  WakeShards();
  while (!stop_ && !ShardsIdle()) {
    std::unique_lock lock(progress_mu_);
    progress_cv_.wait_for(lock, milliseconds(50));
  }
  if (stop_) {
    --flushing_;
    return;
  }
  StopShards();
  StartShards(n);
  --flushing_;
  log::Info("remote write resharded", {{"remote_name", name()}, {"shards", n}});
}

void QueueManager::ShardLoop(Shard* shard) {
  const size_t max_batch = static_cast<size_t>(options_.endpoint.queue.max_samples_per_send);
  const auto deadline =
      options_.endpoint.queue.batch_send_deadline - ReadBatchDelay(options_.endpoint.queue);
  const size_t capacity = static_cast<size_t>(options_.endpoint.queue.capacity);
  std::vector<Item> batch;
  batch.reserve(max_batch);
  while (true) {
    bool wake_reader = false;
    {
      std::unique_lock lock(shard->mu);
      while (!shard->stop) {
        if (shard->queue.size() >= max_batch) break;
        if (!shard->queue.empty() &&
            (flushing_ > 0 || Clock::now() >= shard->first_arrival + deadline)) {
          break;
        }
        if (shard->queue.empty()) {
          shard->has_work.wait(lock);
        } else {
          shard->has_work.wait_until(lock, shard->first_arrival + deadline);
        }
      }
      if (shard->stop) return;
      size_t n = std::min(max_batch, shard->queue.size());
      batch.clear();
      shard->queue.PopInto(n, &batch);
      shard->inflight_min_seq = batch.front().seq;
      if (!shard->queue.empty()) shard->first_arrival = Clock::now();
      // A reader blocked on the full queue is woken once half of it is free, or when
      // this shard would next wait for more: once per few batches, not after each.
      wake_reader = shard->queue.size() <= capacity / 2 || shard->queue.size() < max_batch;
    }
    if (wake_reader) shard->has_space.notify_one();
    SendBatch(shard, batch);
    {
      std::lock_guard lock(shard->mu);
      if (shard->stop && shard->inflight_min_seq != kNoSeq) return;  // abandoned mid-retry
      shard->inflight_min_seq = kNoSeq;
    }
    counters_.pending -= static_cast<int64_t>(batch.size());
    // Only a Flush or a reshard waits for the shards; the committer's own timer paces
    // the cursor, so it is not woken for every batch.
    if (flushing_ > 0) {
      { std::lock_guard lock(progress_mu_); }
      progress_cv_.notify_all();
    }
  }
}

void QueueManager::SendBatch(Shard* shard, std::vector<Item>& batch) {
  // Items stay in WAL order, which is time order within a series (the TSDB writes only
  // samples newer than the series' last); consecutive samples of one series share a
  // TimeSeries. Not sorted by series: a batch seldom holds two samples of one series (that
  // takes two scrapes of one target within max_samples_per_send samples), sorting cost more
  // than it saved, and a series in two TimeSeries entries, in order, is valid remote write
  // (Prometheus sends one TimeSeries per sample).
  shard->encoder.Reset();
  // With many series at a long interval every label block and most pairs are cold: fetch
  // them ahead in two steps (the block, then its pairs once the block has arrived;
  // BM_EncodeCompressColdLabels).
  constexpr size_t kBlockAhead = 16, kPairsAhead = 8;
  const SeriesStore& store = *store_;
  const storage::LabelPairTable& pairs = store.pairs();
  auto prefetch = [&](size_t j) {
    if (j + kBlockAhead < batch.size()) PrefetchLabelBlock(batch[j + kBlockAhead].labels);
    if (j + kPairsAhead < batch.size()) store.PrefetchPairs(batch[j + kPairsAhead].labels);
  };
  for (size_t k = 0; k < std::min(kBlockAhead, batch.size()); ++k) {
    PrefetchLabelBlock(batch[k].labels);
  }
  int64_t highest = 0;
  for (size_t i = 0; i < batch.size();) {
    size_t j = i;
    shard->samples.clear();
    while (j < batch.size() && batch[j].ref == batch[i].ref) {
      prefetch(j);
      shard->samples.push_back({batch[j].t_ms, batch[j].value});
      highest = std::max(highest, batch[j].t_ms);
      ++j;
    }
    const char* block = batch[i].labels;
    shard->encoder.AddSeries(pairs, LabelBlockIds(block), LabelBlockEncodedSize(block),
                             shard->samples);
    i = j;
  }
  const std::string_view compressed = shard->snappy.Compress(shard->encoder.bytes());

  Backoff backoff(options_.endpoint.queue.min_backoff, options_.endpoint.queue.max_backoff);
  while (true) {
    auto started = Clock::now();
    SendAttempt attempt = transport_->Send(compressed);
    send_busy_us_ += duration_cast<microseconds>(Clock::now() - started).count();
    switch (attempt.verdict.outcome) {
      case SendOutcome::kDelivered:
        counters_.samples_sent += batch.size();
        counters_.bytes_sent += compressed.size();
        AtomicMax(counters_.highest_sent_ts, highest);
        last_success_ms_ = NowMs();
        return;
      case SendOutcome::kDrop: {
        counters_.samples_failed += batch.size();
        counters_.batches_failed += 1;
        std::lock_guard lock(drop_log_mu_);
        if (Clock::now() - last_drop_log_ > std::chrono::seconds(10)) {  // rate-limited
          last_drop_log_ = Clock::now();
          log::Error("remote write: receiver rejected a batch; dropped, not retried",
                     {{"remote_name", name()},
                      {"url", url()},
                      {"samples", batch.size()},
                      {"err", attempt.error}});
        }
        return;
      }
      case SendOutcome::kRetry: {
        counters_.samples_retried += batch.size();
        last_failure_ms_ = NowMs();
        milliseconds wait = attempt.verdict.retry_after.value_or(backoff.Next());
        {
          std::lock_guard lock(drop_log_mu_);
          if (Clock::now() - last_retry_log_ > std::chrono::seconds(10)) {  // rate-limited
            last_retry_log_ = Clock::now();
            log::Warn(
                "remote write: send failed, retrying",
                {{"remote_name", name()}, {"err", attempt.error}, {"retry_in_ms", wait.count()}});
          }
        }
        std::unique_lock lock(shard->mu);
        shard->has_work.wait_for(lock, wait, [&] { return shard->stop; });
        if (shard->stop) return;
        break;
      }
    }
  }
}

// ---- Acknowledgement ---------------------------------------------------------------

uint64_t QueueManager::MinPendingSeq() {
  uint64_t min_pending = dispatched_seq_.load(std::memory_order_acquire) + 1;
  std::shared_lock lock(shards_mu_);
  for (auto& s : shards_) {
    std::lock_guard l(s->mu);
    if (!s->queue.empty()) min_pending = std::min(min_pending, s->queue.front().seq);
    min_pending = std::min(min_pending, s->inflight_min_seq);
  }
  return min_pending;
}

WalPosition QueueManager::AckedPosition() {
  const uint64_t min_pending = MinPendingSeq();
  std::lock_guard lock(positions_mu_);
  std::optional<WalPosition> pos;
  while (!positions_.empty() && positions_.front().first < min_pending) {
    pos = positions_.front().second;
    positions_.pop_front();
  }
  std::lock_guard c(commit_mu_);
  if (pos && *pos > acked_) acked_ = *pos;
  return acked_;
}

void QueueManager::Persist(WalPosition pos) {
  if (!cursor_path_.empty()) {
    Status st = StoreCursor(cursor_path_, pos);
    if (!st.ok()) {
      // Persisting is retried with every commit: say so once a minute, not every time.
      auto now = Clock::now();
      if (last_persist_error_log_ == Clock::time_point{} ||
          now - last_persist_error_log_ >= std::chrono::minutes(1)) {
        log::Error("remote write: cannot persist the cursor",
                   {{"remote_name", name()}, {"err", st}});
        last_persist_error_log_ = now;
      }
      return;
    }
  }
  wal_.Acknowledge(ConsumerName(), pos);
}

void QueueManager::Commit(bool force) {
  WalPosition pos = AckedPosition();
  std::lock_guard lock(commit_mu_);
  if (pos == persisted_ && !force) return;
  auto now = Clock::now();
  if (!force && now - last_persist_ < options_.cursor_sync_interval) return;
  Persist(pos);
  persisted_ = pos;
  last_persist_ = now;
}

int QueueManager::DesiredShards(double interval_s) {
  const QueueConfig& q = options_.endpoint.queue;
  int current = counters_.current_shards.load();
  double blocked = static_cast<double>(reader_blocked_us_.exchange(0)) / 1e6 / interval_s;
  double busy =
      static_cast<double>(send_busy_us_.exchange(0)) / 1e6 / interval_s / std::max(1, current);
  bool failing = last_failure_ms_.load() > last_success_ms_.load();
  int desired = current;
  if (blocked > 0.1 && !failing) {
    desired = std::min(q.max_shards, current * 2);    // behind: the reader waits on full queues
  } else if (caught_up_ && busy < 0.3 && !failing) {  // resharding drains: not while failing
    // Enough shards to keep each one ~60% busy at the current rate.
    desired = static_cast<int>(std::ceil(busy * current / 0.6));
  }
  return std::clamp(desired, q.min_shards, q.max_shards);
}

void QueueManager::CommitLoop() {
  auto last_reshard = Clock::now();
  while (!stop_) {
    {
      std::unique_lock lock(progress_mu_);
      // Woken after every batch; the timeout paces persistence and resharding checks.
      progress_cv_.wait_for(
          lock, std::clamp(options_.cursor_sync_interval, milliseconds(10), milliseconds(1000)));
    }
    if (stop_) break;
    Commit(/*force=*/false);
    auto now = Clock::now();
    if (now - last_reshard >= options_.reshard_interval) {
      double interval_s = std::chrono::duration<double>(now - last_reshard).count();
      desired_shards_ = DesiredShards(interval_s);
      last_reshard = now;
    }
  }
}

Status QueueManager::Flush(Clock::time_point deadline) {
  WalPosition target = wal_.End();
  ++flushing_;
  WakeShards();
  const uint64_t epoch = caught_up_epoch_.load();
  Status result = Status::OK();
  while (!FlushDone(target, epoch)) {
    if (stop_) {
      result = Status::Aborted("remote write queue stopped during flush");
      break;
    }
    if (Clock::now() >= deadline) {
      result = Status::DeadlineExceeded("remote write flush of " + name() + " timed out");
      break;
    }
    std::unique_lock lock(progress_mu_);
    progress_cv_.wait_until(lock, std::min(deadline, Clock::now() + milliseconds(20)));
  }
  --flushing_;
  Commit(/*force=*/true);
  return result;
}

bool QueueManager::FlushDone(WalPosition target, uint64_t epoch) {
  if (AckedPosition() >= target) return true;
  // The WAL may end in a fresh, empty segment that no record will ever acknowledge past:
  // then "the reader came up empty after the flush began and owes nothing" is the test.
  if (caught_up_epoch_.load() <= epoch) return false;
  std::lock_guard lock(positions_mu_);
  return positions_.empty();
}

QueueStats QueueManager::Stats() const {
  QueueStats s;
  s.samples_in = counters_.samples_in;
  s.samples_sent = counters_.samples_sent;
  s.samples_failed = counters_.samples_failed;
  s.samples_retried = counters_.samples_retried;
  s.samples_dropped = counters_.samples_dropped;
  s.wal_segments_skipped = counters_.wal_segments_skipped;
  s.bytes_sent = counters_.bytes_sent;
  s.batches_failed = counters_.batches_failed;
  s.pending_samples = counters_.pending;
  s.highest_read_timestamp_ms = counters_.highest_read_ts;
  s.highest_sent_timestamp_ms = counters_.highest_sent_ts;
  if (s.highest_sent_timestamp_ms != 0) {
    const int64_t now = options_.now_ms ? options_.now_ms() : WallMs();
    s.lag_seconds =
        std::max<double>(0, static_cast<double>(now - s.highest_sent_timestamp_ms) / 1e3);
  }
  s.requests_cancelled = counters_.requests_cancelled;
  s.current_shards = counters_.current_shards;
  s.desired_shards = desired_shards_;
  s.series = counters_.series;
  {
    std::lock_guard lock(commit_mu_);
    s.cursor = acked_;
  }
  return s;
}

}  // namespace shardwise::remotewrite
