#include "scraper/tsdb/head.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <new>
#include <unordered_set>

namespace shardwise::tsdb {
namespace {

void AtomicMin(std::atomic<int64_t>& a, int64_t v) {
  int64_t cur = a.load(std::memory_order_relaxed);
  while (v < cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

void AtomicMax(std::atomic<int64_t>& a, int64_t v) {
  int64_t cur = a.load(std::memory_order_relaxed);
  while (v > cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

}  // namespace

Head::ChunkList::~ChunkList() {
  if (!h_) return;
  for (Chunk& c : *this) c.~Chunk();
  ::operator delete(h_);
}

void Head::ChunkList::push_back(Chunk c) {
  if (size() == capacity()) {
    const uint32_t cap = h_ == nullptr ? 2 : h_->cap + h_->cap / 2;
    auto* fresh = static_cast<Header*>(::operator new(sizeof(Header) + cap * sizeof(Chunk)));
    fresh->size = 0;
    fresh->cap = cap;
    if (h_) {
      for (uint32_t i = 0; i < h_->size; ++i) {
        new (fresh->items() + i) Chunk(std::move(h_->items()[i]));
        h_->items()[i].~Chunk();
      }
      fresh->size = h_->size;
      ::operator delete(h_);
    }
    h_ = fresh;
  }
  new (h_->items() + h_->size) Chunk(std::move(c));
  ++h_->size;
}

void Head::ChunkList::erase_front(size_t n) {
  if (n == 0) return;
  Chunk* items = h_->items();
  std::move(items + n, items + h_->size, items);
  for (uint32_t i = h_->size - static_cast<uint32_t>(n); i < h_->size; ++i) items[i].~Chunk();
  h_->size -= static_cast<uint32_t>(n);
  if (h_->size == 0) {
    ::operator delete(h_);
    h_ = nullptr;
  }
}

Labels Head::LabelsOf(const Series& s) const {
  std::vector<Label> out;
  out.reserve(s.num_labels);
  for (uint32_t i = 0; i < s.num_labels; ++i) {
    const uint32_t id = s.labels()[i];
    out.push_back({std::string(pairs_.name(id)), std::string(pairs_.value(id))});
  }
  return Labels::FromSorted(std::move(out));
}

void Head::SeriesDeleter::operator()(Series* s) const {
  s->~Series();
  ::operator delete(s);
}

Head::Head(Options options) : options_(options) {}

Head::~Head() {
  ForEachSeriesLocked([](Series* s) { SeriesDeleter()(s); });
}

template <typename Fn>
void Head::ForEachSeriesLocked(Fn&& fn) const {
  for (const Page& page : pages_) {
    if (!page.slots) continue;
    for (size_t i = 0; i < (size_t{1} << kPageBits); ++i) {
      if (Series* s = page.slots[i]) fn(s);
    }
  }
}

void Head::InsertLocked(Series* s) {
  const SeriesRef page = s->ref >> kPageBits;
  if (pages_.empty()) page_base_ = page;
  if (page < page_base_) {  // replay of an older ref
    for (; page_base_ > page; --page_base_) pages_.emplace_front();
  }
  if (page - page_base_ >= pages_.size()) pages_.resize(page - page_base_ + 1);
  Page& p = pages_[page - page_base_];
  if (!p.slots) p.slots = std::make_unique<Series*[]>(size_t{1} << kPageBits);
  p.slots[s->ref & ((SeriesRef{1} << kPageBits) - 1)] = s;
  ++p.live;
  by_hash_.Insert(s);
}

void Head::EraseLocked(Series* s) {
  Series** slot = by_hash_.Find(s->hash, [&](Series* x) { return x == s; });
  if (slot) by_hash_.Erase(slot);
  Page& p = pages_[(s->ref >> kPageBits) - page_base_];
  p.slots[s->ref & ((SeriesRef{1} << kPageBits) - 1)] = nullptr;
  if (--p.live == 0) p.slots.reset();
  while (!pages_.empty() && !pages_.front().slots) {
    pages_.pop_front();
    ++page_base_;
  }
  SeriesDeleter()(s);
}

uint64_t Head::LabelBytes(const Series& s) const {
  uint64_t n = 16;  // ref and counts, as a series record encodes them
  for (uint32_t i = 0; i < s.num_labels; ++i) {
    n += pairs_.name(s.labels()[i]).size() + pairs_.value(s.labels()[i]).size() + 4;
  }
  return n;
}

void Head::NoteTime(int64_t t, int64_t ceiling) {
  t = std::min(t, ceiling);
  AtomicMin(min_time_, t);
  AtomicMax(max_time_, t);
}

int64_t Head::TimeCeiling() const {
  int64_t now = options_.now_ms ? options_.now_ms()
                                : std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count();
  return now > std::numeric_limits<int64_t>::max() - options_.future_grace_ms
             ? std::numeric_limits<int64_t>::max()
             : now + options_.future_grace_ms;
}

Head::Series* Head::FindLocked(SeriesRef ref) const {
  const SeriesRef page = ref >> kPageBits;
  if (page < page_base_ || page - page_base_ >= pages_.size()) return nullptr;
  const Page& p = pages_[page - page_base_];
  return p.slots ? p.slots[ref & ((SeriesRef{1} << kPageBits) - 1)] : nullptr;
}

Head::Series* Head::FindByLabelsLocked(const Labels& labels, uint32_t hash) const {
  Series* const* found = by_hash_.Find(hash, [&](Series* s) {
    if (s->hash != hash || s->num_labels != labels.size()) return false;
    const uint32_t* l = s->labels();
    for (uint32_t i = 0; i < s->num_labels; ++i) {
      if (pairs_.value(l[i]) != labels[i].value || pairs_.name(l[i]) != labels[i].name) {
        return false;
      }
    }
    return true;
  });
  return found ? *found : nullptr;
}

Head::Series* Head::CreateLocked(SeriesRef ref, const Labels& labels, uint32_t hash) {
  void* mem = ::operator new(sizeof(Series) + labels.size() * sizeof(uint32_t));
  Series* s = new (mem) Series();
  s->ref = ref;
  s->hash = hash;
  s->num_labels = static_cast<uint16_t>(labels.size());
  uint32_t* l = s->labels();
  for (size_t i = 0; i < labels.size(); ++i) {
    l[i] = pairs_.Add(labels[i].name, labels[i].value, ref);
  }
  pairs_.AddToAll(ref);
  s->keep_until_cutoff = max_time_.load(std::memory_order_relaxed);
  Series* raw = s;
  InsertLocked(s);
  num_series_.fetch_add(1, std::memory_order_relaxed);
  label_bytes_.fetch_add(LabelBytes(*s), std::memory_order_relaxed);
  series_created_.fetch_add(1, std::memory_order_relaxed);
  return raw;
}

Result<SeriesRef> Head::GetOrCreate(const Labels& labels, bool* created) {
  if (created) *created = false;
  const auto hash = static_cast<uint32_t>(labels.Hash());
  {
    std::shared_lock lock(index_mu_);
    if (Series* s = FindByLabelsLocked(labels, hash)) return s->ref;
  }
  if (labels.empty()) return Status::InvalidArgument("series with no labels");
  if (labels.size() > std::numeric_limits<uint16_t>::max()) {
    return Status::InvalidArgument("series with " + std::to_string(labels.size()) + " labels");
  }
  std::unique_lock lock(index_mu_);
  if (Series* s = FindByLabelsLocked(labels, hash)) return s->ref;
  if (options_.max_series > 0 && num_series_.load() >= options_.max_series) {
    series_limit_hits_.fetch_add(1, std::memory_order_relaxed);
    return Status::ResourceExhausted("head series limit of " + std::to_string(options_.max_series) +
                                     " reached; not creating " + labels.ToString());
  }
  SeriesRef ref = next_ref_.fetch_add(1);
  CreateLocked(ref, labels, hash);
  if (created) *created = true;
  return ref;
}

Result<SeriesRef> Head::CreateWithRef(SeriesRef ref, const Labels& labels) {
  if (ref == 0) return Status::Corruption("series record with ref 0");
  if (labels.empty() || labels.size() > std::numeric_limits<uint16_t>::max()) {
    return Status::Corruption("series record with " + std::to_string(labels.size()) + " labels");
  }
  const auto hash = static_cast<uint32_t>(labels.Hash());
  std::unique_lock lock(index_mu_);
  if (Series* s = FindLocked(ref)) {
    if (s->hash == hash && FindByLabelsLocked(labels, hash) == s) return ref;
    return Status::Corruption("series ref " + std::to_string(ref) + " reused for " +
                              labels.ToString());
  }
  if (Series* s = FindByLabelsLocked(labels, hash)) return s->ref;
  // Pages span the live refs; a ref billions away from them is a damaged record, and
  // would cost gigabytes of empty pages.
  constexpr SeriesRef kMaxPageSpan = SeriesRef{1} << 20;
  const SeriesRef page = ref >> kPageBits;
  if (!pages_.empty() &&
      (page + kMaxPageSpan < page_base_ || page >= page_base_ + pages_.size() + kMaxPageSpan)) {
    return Status::Corruption("series ref " + std::to_string(ref) + " far outside the head's refs");
  }
  CreateLocked(ref, labels, hash)
      ->logged.store(true, std::memory_order_relaxed);  // it came from the WAL
  SeriesRef next = next_ref_.load();
  while (next <= ref && !next_ref_.compare_exchange_weak(next, ref + 1)) {
  }
  return ref;
}

AppendOutcome Head::Check(SeriesRef ref, int64_t t, bool* needs_series_record) const {
  std::shared_lock lock(index_mu_);
  Series* s = FindLocked(ref);
  if (!s) return AppendOutcome::kNotFound;
  // No stripe lock: a pre-check, repeated at commit (PrepareBatch).
  if (needs_series_record) *needs_series_record = !s->logged.load(std::memory_order_relaxed);
  const int64_t max_t = s->max_t.load(std::memory_order_relaxed);
  if (t < max_t) return AppendOutcome::kOutOfOrder;
  if (t == max_t) return AppendOutcome::kDuplicate;
  return AppendOutcome::kOk;
}

AppendOutcome Head::AppendToSeries(Series* s, int64_t t, double v, int64_t ceiling) {
  const int64_t max_t = s->max_t.load(std::memory_order_relaxed);
  if (t < max_t) {
    out_of_order_.fetch_add(1, std::memory_order_relaxed);
    return AppendOutcome::kOutOfOrder;
  }
  if (t == max_t) {
    duplicates_.fetch_add(1, std::memory_order_relaxed);
    return AppendOutcome::kDuplicate;
  }
  int n = s->head_chunk.num_samples();
  if (n == 0) {
    s->head_mint = t;
    num_chunks_.fetch_add(1, std::memory_order_relaxed);
  } else if (n >= chunkenc::kSamplesPerChunk) {
    // Sealing re-encodes the full chunk as decimals when that is smaller (most counters
    // and gauges with few decimal places); ~30 ns per sample, once.
    std::string data = chunkenc::Seal(s->head_chunk.Finish());
    Chunk c{s->head_mint, max_t, nullptr, {}};
    if (options_.chunk_files) {
      Result<ChunkLocation> loc = options_.chunk_files->Write(data, max_t);
      if (loc.ok()) {
        c.loc = *loc;
      } else {
        chunk_write_failures_.fetch_add(1, std::memory_order_relaxed);  // kept on the heap
      }
    }
    if (c.loc.file == 0) {
      c.mem.reset(new char[data.size()]);
      std::memcpy(c.mem.get(), data.data(), data.size());
      c.loc.size = static_cast<uint32_t>(data.size());
      chunk_bytes_.fetch_add(data.size(), std::memory_order_relaxed);
    }
    s->chunks.push_back(std::move(c));
    s->head_mint = t;
    num_chunks_.fetch_add(1, std::memory_order_relaxed);
  }
  s->head_chunk.Append(t, v);
  s->max_t.store(t, std::memory_order_relaxed);
  samples_appended_.fetch_add(1, std::memory_order_relaxed);
  NoteTime(t, ceiling);
  return AppendOutcome::kOk;
}

AppendOutcome Head::Append(SeriesRef ref, int64_t t, double v) {
  std::shared_lock lock(index_mu_);
  Series* s = FindLocked(ref);
  if (!s) return AppendOutcome::kNotFound;
  std::lock_guard series_lock(StripeFor(ref));
  return AppendToSeries(s, t, v, TimeCeiling());
}

void Head::PrepareBatch(std::vector<SampleRecord>* samples, PreparedBatch* batch,
                        uint64_t* out_of_order, uint64_t* duplicates) {
  batch->series_.clear();
  batch->series_.reserve(samples->size());
  std::shared_lock lock(index_mu_);
  batch->removals_ = removals_.load(std::memory_order_relaxed);
  size_t kept = 0;
  for (size_t i = 0; i < samples->size(); ++i) {
    const SampleRecord& r = (*samples)[i];
    Series* s = FindLocked(r.ref);
    if (!s) continue;
    // No stripe lock: max_t only changes by appends, and the caller keeps other appends
    // out until AppendPrepared.
    const int64_t max_t = s->max_t.load(std::memory_order_relaxed);
    if (r.t < max_t) {
      out_of_order_.fetch_add(1, std::memory_order_relaxed);
      ++*out_of_order;
      continue;
    }
    if (r.t == max_t) {
      duplicates_.fetch_add(1, std::memory_order_relaxed);
      ++*duplicates;
      continue;
    }
    (*samples)[kept++] = r;
    batch->series_.push_back(s);
  }
  samples->resize(kept);
}

void Head::AppendPrepared(std::span<const SampleRecord> samples, const PreparedBatch& batch) {
  const int64_t ceiling = TimeCeiling();
  std::shared_lock lock(index_mu_);
  const bool stale = batch.removals_ != removals_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < samples.size(); ++i) {
    const SampleRecord& r = samples[i];
    Series* s = stale ? FindLocked(r.ref) : static_cast<Series*>(batch.series_[i]);
    if (!s) continue;
    std::lock_guard series_lock(StripeFor(r.ref));
    AppendToSeries(s, r.t, r.v, ceiling);
  }
}

void Head::AppendBatch(std::span<const SampleRecord> samples, uint64_t* rejected) {
  uint64_t bad = 0;
  const int64_t ceiling = TimeCeiling();
  std::shared_lock lock(index_mu_);
  for (const auto& r : samples) {
    Series* s = FindLocked(r.ref);
    if (!s) {
      ++bad;
      continue;
    }
    std::lock_guard series_lock(StripeFor(r.ref));
    if (AppendToSeries(s, r.t, r.v, ceiling) != AppendOutcome::kOk) ++bad;
  }
  if (rejected) *rejected += bad;
}

bool Head::MarkSeriesLogged(SeriesRef ref, bool logged) {
  std::shared_lock lock(index_mu_);
  Series* s = FindLocked(ref);
  if (!s) return false;
  std::lock_guard series_lock(StripeFor(ref));
  return !s->logged.exchange(logged, std::memory_order_relaxed);
}

void Head::EncodeSeriesRecord(std::span<const SeriesRef> refs, std::string* out) const {
  std::shared_lock lock(index_mu_);
  std::vector<const Series*> found;
  for (SeriesRef ref : refs) {
    if (const Series* s = FindLocked(ref)) found.push_back(s);
  }
  BeginSeriesRecord(out, found.size());
  for (const Series* s : found) {
    AddSeriesToRecord(out, s->ref, s->num_labels);
    for (uint32_t i = 0; i < s->num_labels; ++i) {
      AddLabelToRecord(out, pairs_.name(s->labels()[i]), pairs_.value(s->labels()[i]));
    }
  }
}

std::vector<SeriesRef> Head::Select(const std::vector<Matcher>& matchers) const {
  std::shared_lock lock(index_mu_);
  // Matchers that reject "" need the label, so their postings bound the result and are
  // intersected; matchers that accept "" can only remove series, so their complement is
  // subtracted. Smallest lists first keeps intersections cheap.
  std::vector<Postings> positive;
  std::vector<const Matcher*> negative;
  for (const auto& m : matchers) {
    if (m.Matches("")) {
      negative.push_back(&m);
      continue;
    }
    if (m.type() == Matcher::Type::kEqual) {
      Postings p = pairs_.Get(m.name(), m.value());
      if (p.empty()) return {};
      positive.push_back(std::move(p));
      continue;
    }
    std::vector<const PostingsList*> lists;
    pairs_.ForEachValue(m.name(), [&](std::string_view value, const PostingsList& p) {
      if (m.Matches(value)) lists.push_back(&p);
    });
    if (lists.empty()) return {};
    positive.push_back(Union(lists));
  }
  Postings result;
  if (positive.empty()) {
    result = pairs_.All();
  } else {
    std::sort(positive.begin(), positive.end(),
              [](const Postings& a, const Postings& b) { return a.size() < b.size(); });
    result = std::move(positive[0]);
    for (size_t i = 1; i < positive.size() && !result.empty(); ++i) {
      result = Intersect(result, positive[i]);
    }
  }
  for (const Matcher* m : negative) {
    if (result.empty()) break;
    std::vector<const PostingsList*> excluded;
    pairs_.ForEachValue(m->name(), [&](std::string_view value, const PostingsList& p) {
      if (!m->Matches(value)) excluded.push_back(&p);
    });
    if (!excluded.empty()) result = Subtract(result, Union(excluded));
  }
  return result;
}

bool Head::SeriesLabels(SeriesRef ref, Labels* out) const {
  std::shared_lock lock(index_mu_);
  const Series* s = FindLocked(ref);
  if (!s) return false;
  *out = LabelsOf(*s);
  return true;
}

bool Head::ForEachLabel(SeriesRef ref,
                        const std::function<void(std::string_view, std::string_view)>& fn) const {
  std::shared_lock lock(index_mu_);
  const Series* s = FindLocked(ref);
  if (!s) return false;
  for (uint32_t i = 0; i < s->num_labels; ++i) {
    fn(pairs_.name(s->labels()[i]), pairs_.value(s->labels()[i]));
  }
  return true;
}

void Head::ReadSeries(const Series& s, int64_t mint, int64_t maxt, std::vector<Sample>* out) const {
  auto read = [&](auto& it) {
    while (it.Next()) {
      if (it.t() > maxt) break;
      if (it.t() >= mint) out->push_back({it.t(), it.v()});
    }
  };
  for (const auto& c : s.chunks) {
    if (c.maxt < mint || c.mint > maxt) continue;
    chunkenc::Iterator it(c.bytes(options_.chunk_files));
    read(it);
  }
  if (s.head_chunk.num_samples() > 0 && s.head_mint <= maxt &&
      s.max_t.load(std::memory_order_relaxed) >= mint) {
    chunkenc::XorIterator it(s.head_chunk.bytes());
    read(it);
  }
}

bool Head::Samples(SeriesRef ref, int64_t mint, int64_t maxt, std::vector<Sample>* out) const {
  std::shared_lock lock(index_mu_);
  const Series* s = FindLocked(ref);
  if (!s) return false;
  std::lock_guard series_lock(StripeFor(ref));
  ReadSeries(*s, mint, maxt, out);
  return true;
}

bool Head::HasSamplesIn(SeriesRef ref, int64_t mint, int64_t maxt) const {
  std::shared_lock lock(index_mu_);
  const Series* s = FindLocked(ref);
  if (!s) return false;
  std::lock_guard series_lock(StripeFor(ref));
  for (const auto& c : s->chunks) {
    if (c.maxt >= mint && c.mint <= maxt) return true;
  }
  return s->head_chunk.num_samples() > 0 && s->head_mint <= maxt &&
         s->max_t.load(std::memory_order_relaxed) >= mint;
}

std::vector<std::string> Head::LabelNames() const {
  std::vector<std::string> out;
  std::shared_lock lock(index_mu_);
  pairs_.ForEachName([&](std::string_view name) { out.emplace_back(name); });
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Head::LabelValues(std::string_view name) const {
  std::vector<std::string> out;
  std::shared_lock lock(index_mu_);
  pairs_.ForEachValue(name, [&](std::string_view v, const PostingsList&) { out.emplace_back(v); });
  std::sort(out.begin(), out.end());
  return out;
}

void Head::ForEachLabelPair(
    const std::function<void(std::string_view, std::string_view, size_t)>& fn) const {
  std::shared_lock lock(index_mu_);
  pairs_.ForEachName([&](std::string_view name) {
    pairs_.ForEachValue(name, [&](std::string_view value, const PostingsList& list) {
      fn(name, value, list.size());
    });
  });
}

void Head::ForEachSeries(const std::function<void(SeriesRef, const Labels&)>& fn) const {
  std::shared_lock lock(index_mu_);
  for (SeriesRef ref : pairs_.All()) {
    if (const Series* s = FindLocked(ref)) fn(ref, LabelsOf(*s));
  }
}

Head::TruncateResult Head::Truncate(int64_t cutoff) {
  TruncateResult result;
  // Phase 1, index shared (appends go on): drop old chunks series by series under their
  // stripe locks and note series left empty.
  std::vector<SeriesRef> candidates;
  int64_t new_min = std::numeric_limits<int64_t>::max();
  {
    std::shared_lock lock(index_mu_);
    ForEachSeriesLocked([&](Series* s) {
      const SeriesRef ref = s->ref;
      std::lock_guard series_lock(StripeFor(ref));
      auto keep = std::find_if(s->chunks.begin(), s->chunks.end(),
                               [&](const Chunk& c) { return c.maxt >= cutoff; });
      for (auto it = s->chunks.begin(); it != keep; ++it) {
        if (it->mem) chunk_bytes_.fetch_sub(it->loc.size, std::memory_order_relaxed);
        ++result.chunks_removed;
      }
      s->chunks.erase_front(static_cast<size_t>(keep - s->chunks.begin()));
      if (s->head_chunk.num_samples() > 0 && s->max_t.load(std::memory_order_relaxed) < cutoff) {
        s->head_chunk = chunkenc::XorAppender();
        ++result.chunks_removed;
      }
      bool empty = s->chunks.empty() && s->head_chunk.num_samples() == 0;
      if (!s->chunks.empty()) {
        new_min = std::min(new_min, s->chunks.front().mint);
      } else if (!empty) {
        new_min = std::min(new_min, s->head_mint);
      }
      if (empty && s->keep_until_cutoff < cutoff) candidates.push_back(ref);
    });
  }
  num_chunks_.fetch_sub(result.chunks_removed, std::memory_order_relaxed);
  min_time_.store(new_min, std::memory_order_relaxed);
  // No series refers to a chunk older than the cutoff any more (each dropped them under
  // its lock, which readers hold while they read): their files can go.
  if (options_.chunk_files) options_.chunk_files->DeleteBefore(cutoff);
  if (candidates.empty()) return result;

  // Phase 2, index exclusive: remove the candidates that are still empty (an appender may
  // have added a sample in between).
  std::unique_lock lock(index_mu_);
  std::vector<Series*> doomed;
  for (SeriesRef ref : candidates) {
    Series* s = FindLocked(ref);
    if (!s) continue;
    std::lock_guard series_lock(StripeFor(ref));
    if (s->chunks.empty() && s->head_chunk.num_samples() == 0) doomed.push_back(s);
  }
  for (Series* s : doomed) result.series_removed.emplace_back(s->ref, LabelsOf(*s));
  RemoveLocked(doomed);
  return result;
}

void Head::RemoveLocked(const std::vector<Series*>& doomed) {
  if (doomed.empty()) return;
  removals_.fetch_add(1, std::memory_order_relaxed);
  std::unordered_set<uint64_t> refs;
  std::vector<uint32_t> ids;
  for (Series* s : doomed) {
    refs.insert(s->ref);
    ids.insert(ids.end(), s->labels(), s->labels() + s->num_labels);
    label_bytes_.fetch_sub(LabelBytes(*s), std::memory_order_relaxed);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  // Pairs left with no series are freed here, so no series may read its labels after.
  for (uint32_t id : ids) pairs_.Remove(id, refs);
  pairs_.RemoveFromAll(refs);
  for (Series* s : doomed) EraseLocked(s);  // frees s
  num_series_.fetch_sub(doomed.size(), std::memory_order_relaxed);
  series_removed_.fetch_add(doomed.size(), std::memory_order_relaxed);
}

HeadStats Head::Stats() const {
  HeadStats st;
  st.series = num_series_.load();
  st.label_bytes = label_bytes_.load();
  st.chunks = num_chunks_.load();
  st.samples_appended = samples_appended_.load();
  st.out_of_order = out_of_order_.load();
  st.duplicates = duplicates_.load();
  st.series_created = series_created_.load();
  st.series_removed = series_removed_.load();
  st.series_limit_hits = series_limit_hits_.load();
  {
    std::shared_lock lock(index_mu_);
    st.label_pairs = pairs_.size();
  }
  st.min_time = min_time_.load();
  st.max_time = max_time_.load();
  return st;
}

size_t Head::MemoryBytes() const {
  std::shared_lock lock(index_mu_);
  size_t bytes = pairs_.MemoryBytes();
  bytes += pages_.size() * sizeof(Page) + by_hash_.MemoryBytes();
  for (const Page& p : pages_) bytes += p.slots ? sizeof(Series*) << kPageBits : 0;
  ForEachSeriesLocked([&](const Series* s) {
    std::lock_guard series_lock(StripeFor(s->ref));
    bytes += sizeof(Series) + s->num_labels * sizeof(uint32_t);
    bytes += s->chunks.capacity() * sizeof(Chunk);
    for (const auto& c : s->chunks) bytes += c.mem ? c.loc.size : 0;
    bytes += s->head_chunk.HeapBytes();
  });
  return bytes;
}

}  // namespace shardwise::tsdb
