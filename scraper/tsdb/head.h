// Head: the in-memory part of the TSDB. It owns
//   - the series index: labels -> ref (hash of the label set), ref -> series, and the
//     label pairs (index/label_pairs.h): every distinct (name, value) pair interned once
//     per process under a 32-bit id (storage::LabelPairTable, shared with remote write),
//     with its postings for matchers. A series is one allocation: a
//     ~96-byte header followed by its labels as pair ids (4 B per label);
//   - per-series sample data: sealed chunks of 120 samples (XOR or decimal, whichever is
//     smaller) plus the XOR chunk being appended to. With Options::chunk_files, sealed
//     chunks live in those files (page cache, not heap) and the head keeps only where
//     they are; without, on the heap.
// Appends must be in time order per series: a sample older than the series' newest is
// out of order, one at the same timestamp is a duplicate; both are rejected and counted.
// A max-series limit refuses new series with ResourceExhausted.
//
// The head's time range never moves past the wall clock because of a sample's timestamp:
// a sample stamped in the future is stored, but the head's min/max time (which drive
// retention and the out-of-bounds limit, see db.h) take at most now + future_grace.
//
// Thread-safety: all methods may be called concurrently. The index sits behind a
// reader/writer lock; sample data behind striped per-series locks.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "common/labels.h"
#include "common/status.h"
#include "scraper/tsdb/chunk_files.h"
#include "scraper/tsdb/chunkenc/chunk.h"
#include "scraper/tsdb/chunkenc/xor_chunk.h"
#include "scraper/tsdb/index/flat_table.h"
#include "scraper/tsdb/index/label_pairs.h"
#include "scraper/tsdb/index/matcher.h"
#include "scraper/tsdb/record.h"

namespace shardwise::tsdb {

using SeriesRef = uint64_t;

struct Sample {
  int64_t t;
  double v;
};

enum class AppendOutcome { kOk, kOutOfOrder, kDuplicate, kNotFound };

struct HeadStats {
  uint64_t series = 0;
  uint64_t chunks = 0;
  uint64_t samples_appended = 0;
  uint64_t out_of_order = 0;
  uint64_t duplicates = 0;
  uint64_t series_created = 0;
  uint64_t series_removed = 0;
  uint64_t series_limit_hits = 0;
  uint64_t label_pairs = 0;  // distinct (name, value) pairs
  uint64_t label_bytes = 0;  // about what a series record of every series takes
  int64_t min_time = std::numeric_limits<int64_t>::max();
  int64_t max_time = std::numeric_limits<int64_t>::min();
};

class Head {
 public:
  struct Options {
    size_t max_series = 0;  // 0: unlimited
    int64_t future_grace_ms = 10 * 60 * 1000;
    std::function<int64_t()> now_ms;  // wall clock in ms; null: the system clock
    // Where sealed chunks go; must outlive the head. Null: on the heap.
    ChunkFiles* chunk_files = nullptr;
  };
  explicit Head(Options options);
  ~Head();
  Head(const Head&) = delete;
  Head& operator=(const Head&) = delete;

  // The ref of the series with `labels`, creating the series when new (`*created` tells
  // which). ResourceExhausted when creating would exceed max_series; InvalidArgument
  // for an empty label set or one of more than 65,535 labels.
  Result<SeriesRef> GetOrCreate(const Labels& labels, bool* created = nullptr);
  // For replay: (re)creates the series under a ref chosen earlier and returns the ref
  // the labels now live under: `ref`, or an older ref when the same labels were logged
  // twice (a series deleted and recreated). Later refs handed out by GetOrCreate are
  // above every ref seen here. Ignores the series limit: data accepted once is not
  // dropped on restart.
  Result<SeriesRef> CreateWithRef(SeriesRef ref, const Labels& labels);

  // Cheap pre-check for appenders: whether (t, v) would be accepted now, and whether the
  // series still needs its WAL series record.
  AppendOutcome Check(SeriesRef ref, int64_t t, bool* needs_series_record = nullptr) const;
  AppendOutcome Append(SeriesRef ref, int64_t t, double v);
  // A commit's batch in one lookup per sample. PrepareBatch removes the samples that would
  // not be accepted now (unknown ref, out of order, duplicate), counting them like Append
  // does, keeps the order of the rest and notes each one's series; AppendPrepared then
  // appends them without finding the series again. Samples of one ref must already be in
  // increasing time order. The caller writes its WAL record in between, and nothing else
  // may append to the head in between (DB::CommitBatch holds its commit lock over both); a
  // series removed in between (retention) is looked up again, and so skipped.
  class PreparedBatch {
   public:
    void Clear() { series_.clear(); }

   private:
    friend class Head;
    std::vector<void*> series_;  // Series*, parallel to the kept samples
    uint64_t removals_ = 0;      // the head's removal count when prepared
  };
  void PrepareBatch(std::vector<SampleRecord>* samples, PreparedBatch* batch,
                    uint64_t* out_of_order, uint64_t* duplicates);
  void AppendPrepared(std::span<const SampleRecord> samples, const PreparedBatch& batch);
  // Appends a batch under one index lock; outcome per sample is counted, not returned.
  void AppendBatch(std::span<const SampleRecord> samples, uint64_t* rejected = nullptr);

  // WAL bookkeeping: the first writer of a series' samples also writes its labels.
  // Returns true when the series had not been marked yet (and marks it). Marking false
  // undoes a mark whose WAL write failed.
  bool MarkSeriesLogged(SeriesRef ref, bool logged = true);
  // Encodes a WAL series record for `refs` (unknown refs are skipped).
  void EncodeSeriesRecord(std::span<const SeriesRef> refs, std::string* out) const;

  // --- reading ---
  // Refs of series matching every matcher, ascending. No matchers: every series.
  std::vector<SeriesRef> Select(const std::vector<Matcher>& matchers) const;
  bool SeriesLabels(SeriesRef ref, Labels* out) const;
  // Calls fn(name, value) for each label of the series, in label order, without copying
  // them (views into the head, valid during the call; the index lock is held shared, so
  // fn must not call back into the head). False when the ref is unknown.
  bool ForEachLabel(SeriesRef ref,
                    const std::function<void(std::string_view, std::string_view)>& fn) const;
  // Appends the samples with mint <= t <= maxt; false when the ref is unknown.
  bool Samples(SeriesRef ref, int64_t mint, int64_t maxt, std::vector<Sample>* out) const;
  // Whether the series has a sample in [mint, maxt].
  bool HasSamplesIn(SeriesRef ref, int64_t mint, int64_t maxt) const;
  std::vector<std::string> LabelNames() const;
  std::vector<std::string> LabelValues(std::string_view name) const;
  // Calls fn(ref, labels) for every series (for checkpoints), in ref order.
  void ForEachSeries(const std::function<void(SeriesRef, const Labels&)>& fn) const;
  // Calls fn(name, value, series) for every label pair in the index, from the postings
  // alone (no series is read): the cardinality view (tsdb/api/tsdb_status.h).
  void ForEachLabelPair(
      const std::function<void(std::string_view, std::string_view, size_t)>& fn) const;

  // --- retention ---
  struct TruncateResult {
    uint64_t chunks_removed = 0;
    std::vector<std::pair<SeriesRef, Labels>> series_removed;
  };
  // Drops chunks whose newest sample is older than `cutoff` and series left with no data
  // (a series is kept at least until the cutoff passes the time it was created). Chunks
  // are dropped under the shared index lock; only removing series takes it exclusively.
  TruncateResult Truncate(int64_t cutoff);

  HeadStats Stats() const;
  // Approximate heap bytes held by the head (index, strings, chunks).
  size_t MemoryBytes() const;
  SeriesRef max_ref() const { return next_ref_.load() - 1; }
  // The latest time the head's range may reach now: wall clock + future grace.
  int64_t TimeCeiling() const;

 private:
  // A sealed chunk: encoding byte + chunk (chunkenc/chunk.h), in the chunk files (`loc`)
  // or, without them, in `mem` (loc.size bytes).
  struct Chunk {
    int64_t mint;
    int64_t maxt;
    std::unique_ptr<char[]> mem;
    ChunkLocation loc;
    std::string_view bytes(const ChunkFiles* files) const {
      return mem ? std::string_view(mem.get(), loc.size) : files->Read(loc);
    }
  };
  static_assert(alignof(Chunk) <= 8);
  // Sealed chunks of a series, oldest first: one pointer while there are none (every
  // series of a head shorter than a chunk's 120 samples), then one block holding them.
  class ChunkList {
   public:
    ChunkList() = default;
    ~ChunkList();
    ChunkList(const ChunkList&) = delete;
    ChunkList& operator=(const ChunkList&) = delete;
    Chunk* begin() const { return h_ ? h_->items() : nullptr; }
    Chunk* end() const { return h_ ? h_->items() + h_->size : nullptr; }
    size_t size() const { return h_ ? h_->size : 0; }
    size_t capacity() const { return h_ ? h_->cap : 0; }
    bool empty() const { return size() == 0; }
    const Chunk& front() const { return *begin(); }
    void push_back(Chunk c);
    void erase_front(size_t n);  // drops the n oldest

   private:
    struct Header {
      uint32_t size;
      uint32_t cap;
      Chunk* items() { return reinterpret_cast<Chunk*>(this + 1); }
    };
    Header* h_ = nullptr;
  };
  // One allocation per series: this header, then the label pair ids (LabelPairs), in
  // label order.
  struct Series {
    SeriesRef ref;
    // Written under the stripe lock; atomic so that Check() reads it without that lock
    // (commit re-checks under it).
    std::atomic<int64_t> max_t{std::numeric_limits<int64_t>::min()};
    int64_t keep_until_cutoff;  // creation time in head time
    int64_t head_mint = 0;
    ChunkList chunks;
    chunkenc::XorAppender head_chunk;
    uint32_t hash;  // low half of the label set's hash
    uint16_t num_labels;
    std::atomic<bool> logged{false};  // written under the stripe lock, as max_t

    uint32_t* labels() { return reinterpret_cast<uint32_t*>(this + 1); }
    const uint32_t* labels() const { return reinterpret_cast<const uint32_t*>(this + 1); }
  };
  static_assert(sizeof(Series) % alignof(uint32_t) == 0);
  struct SeriesDeleter {
    void operator()(Series* s) const;
  };
  // Series by ref: refs are dense (handed out in order), so pages of pointers indexed by
  // ref replace a hash map's node per series. Refs only grow (also across restarts), so
  // the window of pages slides: emptied pages at the front are dropped.
  static constexpr int kPageBits = 12;
  struct Page {
    std::unique_ptr<Series*[]> slots;
    uint32_t live = 0;
  };
  // Series by labels hash; collisions are told apart by comparing labels.
  struct HashTraits {
    static bool Empty(Series* s) { return s == nullptr; }
    static uint64_t Hash(Series* s) { return s->hash; }
  };
  static constexpr size_t kStripes = 256;

  Series* FindLocked(SeriesRef ref) const;
  void InsertLocked(Series* s);
  void EraseLocked(Series* s);
  template <typename Fn>
  void ForEachSeriesLocked(Fn&& fn) const;
  Series* FindByLabelsLocked(const Labels& labels, uint32_t hash) const;
  Series* CreateLocked(SeriesRef ref, const Labels& labels, uint32_t hash);
  Labels LabelsOf(const Series& s) const;
  void RemoveLocked(const std::vector<Series*>& doomed);
  AppendOutcome AppendToSeries(Series* s, int64_t t, double v, int64_t ceiling);
  void ReadSeries(const Series& s, int64_t mint, int64_t maxt, std::vector<Sample>* out) const;
  std::mutex& StripeFor(SeriesRef ref) const { return stripes_[ref % kStripes]; }
  void NoteTime(int64_t t, int64_t ceiling);
  uint64_t LabelBytes(const Series& s) const;

  const Options options_;
  mutable std::shared_mutex index_mu_;
  std::deque<Page> pages_;  // pages page_base_, page_base_ + 1, ...; owns the series
  SeriesRef page_base_ = 0;
  FlatTable<Series*, HashTraits> by_hash_;
  LabelPairs pairs_;
  mutable std::array<std::mutex, kStripes> stripes_;

  std::atomic<SeriesRef> next_ref_{1};
  std::atomic<uint64_t> num_series_{0};
  std::atomic<uint64_t> label_bytes_{0};
  std::atomic<uint64_t> num_chunks_{0};
  std::atomic<uint64_t> chunk_bytes_{0};  // on the heap
  std::atomic<uint64_t> chunk_write_failures_{0};
  std::atomic<uint64_t> samples_appended_{0};
  // Bumped (under index_mu_ held exclusively) whenever series are removed: a
  // PreparedBatch's series pointers are still valid while it is unchanged.
  std::atomic<uint64_t> removals_{0};
  std::atomic<uint64_t> out_of_order_{0};
  std::atomic<uint64_t> duplicates_{0};
  std::atomic<uint64_t> series_created_{0};
  std::atomic<uint64_t> series_removed_{0};
  std::atomic<uint64_t> series_limit_hits_{0};
  std::atomic<int64_t> min_time_{std::numeric_limits<int64_t>::max()};
  std::atomic<int64_t> max_time_{std::numeric_limits<int64_t>::min()};
};

}  // namespace shardwise::tsdb
