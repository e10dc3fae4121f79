// ScrapeCache: per-target memory of the series a target exposes, as Prometheus's scrapeCache.
//
// Keyed by the raw series text from parse::Parser::Series() (name plus label block, exactly
// as exposed), held once. Each entry holds the storage's series ref and the hash of the
// final labels (after target labels and metric relabeling), or "dropped". It keeps no copy
// of the labels: the storage knows the series by its ref, and when it needs the labels (a
// ref it forgot, a ref lost with a rolled-back appender) the ingester derives them again
// from the raw text. A known series costs no allocation and no label parsing.
//
// Layout (memory is per active series, so it matters): entries are 32-byte records in one
// array, indexed by a 32-bit id; the raw texts sit back to back in one arena string; an
// open-addressing table of (id, hash) slots finds an entry by text; the live set and the
// pass in progress are arrays of ids. No node, no per-entry allocation. Texts of evicted
// entries stay in the arena as garbage until they are half of it, then the arena is
// compacted (at the end of a pass). Arrays are trimmed to size after a pass that grew them.
//
// Lookup. Targets expose their series in the same order every scrape, so Find() first tries
// the series that came next in the last committed pass (one string compare against that
// entry's text, no hashing); on a miss it falls back to the table and resynchronises the
// prediction.
//
// Scrape passes and staleness. Each scrape is one pass: Begin(), then Find()/Add()/MarkSeen()
// per sample, then Commit() when the scrape is ingested, CommitPartial() when its body was
// discarded part way (what it saw still counts, as in Prometheus 2.42) or Fail() when there
// was no body at all.
// The "live set" is the series of the last committed pass. Commit() reports the series of
// the previous live set missing from this pass (they get staleness markers) and evicts them;
// Fail() reports the whole live set (a failed scrape is an empty scrape, as in Prometheus)
// once, and forgets entries first seen in the failed pass. Series appended with an explicit
// timestamp are not tracked for staleness, as in Prometheus. A pass that saw exactly the
// live set in the same order commits without touching any entry.
//
// Entry pointers and Raw() views are valid until the next Add() or the end of the pass.
// Not thread-safe: one scrape loop owns one cache.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scraper/storage/appender.h"
#include "scraper/tsdb/index/flat_table.h"

namespace shardwise::scrape {

class ScrapeCache {
 public:
  static constexpr uint32_t kNotLive = UINT32_MAX;

  struct Entry {
    storage::SeriesRef ref = 0;    // 0: the storage must be given the labels
    uint64_t labels_hash = 0;      // Labels::Hash() of the final labels
    uint32_t pending_iter = 0;     // the pass that last saw it (low 32 bits)
    uint32_t live_pos = kNotLive;  // index in the live set; kNotLive: never committed
    uint32_t text_off = 0;         // the raw text in the arena
    uint32_t text_len : 24 = 0;
    uint32_t dropped : 1 = 0;          // metric relabeling dropped it: nothing is appended
    uint32_t track_staleness : 1 = 0;  // as of the last committed pass
    uint32_t pending_track_staleness : 1 = 0;
  };
  static_assert(sizeof(Entry) == 32);

  // Raw series texts longer than this are refused by Add() (nullptr); no exposition
  // comes near it.
  static constexpr size_t kMaxRawSize = (1u << 24) - 1;

  void Begin() {
    if (static_cast<uint32_t>(++iter_) == 0) ++iter_;  // 0 is a new entry's "never seen"
    cursor_ = 0;
    in_order_ = true;
  }

  // The entry for this raw series text, or nullptr.
  Entry* Find(std::string_view raw) {
    if (cursor_ < live_.size() && Raw(entries_[live_[cursor_]]) == raw) {
      return &entries_[live_[cursor_++]];
    }
    in_order_ = false;
    const uint32_t hash = Hash(raw);
    const Slot* slot = table_.Find(
        hash, [&](const Slot& s) { return s.hash == hash && Raw(entries_[s.id]) == raw; });
    if (slot == nullptr) return nullptr;
    const uint32_t pos = entries_[slot->id].live_pos;
    if (pos < live_.size() && live_[pos] == slot->id) cursor_ = pos + 1;
    return &entries_[slot->id];
  }
  // Adds an entry for `raw`, which Find() did not know. Null when raw is over kMaxRawSize.
  Entry* Add(std::string_view raw, Entry entry);
  std::string_view Raw(const Entry& e) const { return {arena_.data() + e.text_off, e.text_len}; }

  // Records that the current pass saw the series. False when it already had: a duplicate.
  bool MarkSeen(Entry* e, bool track_staleness) {
    if (e->pending_iter == static_cast<uint32_t>(iter_)) return false;
    e->pending_iter = static_cast<uint32_t>(iter_);
    e->pending_track_staleness = track_staleness;
    if (track_staleness != static_cast<bool>(e->track_staleness)) in_order_ = false;
    touched_.push_back(static_cast<uint32_t>(e - entries_.data()));
    return true;
  }

  // The pass was ingested. Calls stale(Entry&) for each series that went away.
  template <typename Fn>
  void Commit(Fn&& stale) {
    if (in_order_ && touched_.size() == live_.size()) {  // the steady state
      touched_.clear();
      live_is_stale_ = false;
      return;
    }
    live_series_ = 0;
    for (size_t i = 0; i < touched_.size(); ++i) {
      Entry& e = entries_[touched_[i]];
      e.live_pos = static_cast<uint32_t>(i);
      e.track_staleness = e.pending_track_staleness;
      live_series_ += e.dropped ? 0 : 1;
    }
    for (uint32_t id : live_) {
      Entry& e = entries_[id];
      if (e.pending_iter == static_cast<uint32_t>(iter_)) continue;  // part of the new live set
      if (!live_is_stale_ && !e.dropped && e.track_staleness) stale(e);
      Erase(id);
    }
    live_.swap(touched_);
    touched_.clear();
    live_is_stale_ = false;
    Tidy();
  }

  // The pass was discarded after part of a body (parse error, limit): as Prometheus 2.42,
  // the series it saw before the failure still count as exposed. Calls stale(Entry&) for
  // the live series it did not see; the ones it saw become the live set. Entries first
  // seen in it keep their labels but not their storage ref (their appender was rolled back).
  template <typename Fn>
  void CommitPartial(Fn&& stale) {
    for (uint32_t id : touched_) {
      if (entries_[id].live_pos == kNotLive) entries_[id].ref = 0;
    }
    Commit(std::forward<Fn>(stale));
  }

  // The pass was discarded without a body. Calls stale(Entry&) for each live series (once
  // per outage).
  template <typename Fn>
  void Fail(Fn&& stale) {
    for (uint32_t id : touched_) {
      if (entries_[id].live_pos == kNotLive) Erase(id);  // first seen in the failed pass
    }
    touched_.clear();
    if (!live_is_stale_) {
      for (uint32_t id : live_) {
        Entry& e = entries_[id];
        if (!e.dropped && e.track_staleness) stale(e);
      }
    }
    live_is_stale_ = true;
    Tidy();
  }

  // Calls fn(Entry&) for each live series not yet marked stale (for a loop's final markers).
  template <typename Fn>
  void ForEachLive(Fn&& fn) {
    if (live_is_stale_) return;
    for (uint32_t id : live_) {
      Entry& e = entries_[id];
      if (!e.dropped && e.track_staleness) fn(e);
    }
  }
  void MarkAllStale() { live_is_stale_ = true; }

  size_t size() const { return table_.size(); }
  // Series of the last committed pass that were ingested (not dropped).
  size_t LiveSeries() const { return live_is_stale_ ? 0 : live_series_; }
  uint64_t iteration() const { return iter_; }
  // Heap bytes held (entries, arena, table, id arrays), for benchmarks.
  size_t MemoryBytes() const;

 private:
  struct Slot {
    uint32_t id = UINT32_MAX;  // UINT32_MAX: empty
    uint32_t hash = 0;
  };
  struct SlotTraits {
    static bool Empty(const Slot& s) { return s.id == UINT32_MAX; }
    static uint64_t Hash(const Slot& s) { return s.hash; }
  };
  static uint32_t Hash(std::string_view raw);
  void Erase(uint32_t id);
  // After a pass: compacts the arena when half of it is garbage, trims arrays that grew.
  void Tidy();

  std::vector<Entry> entries_;  // by id
  std::vector<uint32_t> free_;  // ids of evicted entries, reused first
  std::string arena_;           // raw texts
  size_t garbage_ = 0;          // arena bytes of evicted entries
  tsdb::FlatTable<Slot, SlotTraits> table_;
  std::vector<uint32_t> touched_;  // seen in the pass in progress, in exposition order
  std::vector<uint32_t> live_;     // seen in the last committed pass, in exposition order
  size_t cursor_ = 0;              // position in live_ predicted for the next Find()
  bool in_order_ = true;
  bool live_is_stale_ = false;
  bool grew_ = false;  // entries were added since the last Tidy()
  size_t live_series_ = 0;
  uint64_t iter_ = 0;
};

}  // namespace shardwise::scrape
