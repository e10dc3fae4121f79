// ScrapeCache: per-target memory of the series a target exposes, as Prometheus's scrapeCache.
//
// Keyed by the raw series text from parse::Parser::Series() (name plus label block, exactly
// as exposed), held once. Each entry holds the storage's series ref and the hash of the
// final labels (after target labels and metric relabeling), or "dropped". It keeps no copy
// of the labels: the storage knows the series by its ref, and when it needs the labels (a
// ref it forgot, a ref lost with a rolled-back appender) the ingester derives them again
// from the raw text. A known series costs no allocation and no label parsing.
//
// Lookup. Targets expose their series in the same order every scrape, so Find() first tries
// the series that came next in the last committed pass (one string compare against that
// entry's key, no hashing); on a miss it falls back to a transparent-hash map lookup on the
// string_view and resynchronises the prediction.
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
// Not thread-safe: one scrape loop owns one cache.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/labels.h"
#include "scraper/storage/appender.h"

namespace shardwise::scrape {

class ScrapeCache {
 public:
  static constexpr uint32_t kNotLive = UINT32_MAX;

  struct Entry {
    storage::SeriesRef ref = 0;    // 0: the storage must be given the labels
    uint64_t labels_hash = 0;      // Labels::Hash() of the final labels
    bool dropped = false;          // metric relabeling dropped it: nothing is appended
    bool track_staleness = false;  // as of the last committed pass
    bool pending_track_staleness = false;
    uint64_t pending_iter = 0;     // the pass that last saw it
    uint32_t live_pos = kNotLive;  // index in the live set; kNotLive: never committed
  };

  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return XXH3_64bits(s.data(), s.size()); }
  };
  using Map = std::unordered_map<std::string, Entry, Hash, std::equal_to<>>;
  using Node = Map::value_type;

  void Begin() {
    ++iter_;
    cursor_ = 0;
    in_order_ = true;
  }

  // The entry for this raw series text, or nullptr.
  Node* Find(std::string_view raw) {
    if (cursor_ < live_.size() && live_[cursor_]->first == raw) return live_[cursor_++];
    in_order_ = false;
    auto it = map_.find(raw);
    if (it == map_.end()) return nullptr;
    const uint32_t pos = it->second.live_pos;
    if (pos < live_.size() && live_[pos] == &*it) cursor_ = pos + 1;
    return &*it;
  }
  Node* Add(std::string_view raw, Entry entry) {
    in_order_ = false;
    entry.live_pos = kNotLive;
    return &*map_.try_emplace(std::string(raw), std::move(entry)).first;
  }
  // Records that the current pass saw the series. False when it already had: a duplicate.
  bool MarkSeen(Node* node, bool track_staleness) {
    Entry& e = node->second;
    if (e.pending_iter == iter_) return false;
    e.pending_iter = iter_;
    e.pending_track_staleness = track_staleness;
    if (track_staleness != e.track_staleness) in_order_ = false;
    touched_.push_back(node);
    return true;
  }

  // The pass was ingested. Calls stale(Node&) for each series that went away.
  template <typename Fn>
  void Commit(Fn&& stale) {
    if (in_order_ && touched_.size() == live_.size()) {  // the steady state
      touched_.clear();
      live_is_stale_ = false;
      return;
    }
    live_series_ = 0;
    for (size_t i = 0; i < touched_.size(); ++i) {
      Entry& e = touched_[i]->second;
      e.live_pos = static_cast<uint32_t>(i);
      e.track_staleness = e.pending_track_staleness;
      live_series_ += e.dropped ? 0 : 1;
    }
    for (Node* n : live_) {
      Entry& e = n->second;
      if (e.pending_iter == iter_) continue;  // seen: part of the new live set
      if (!live_is_stale_ && !e.dropped && e.track_staleness) stale(*n);
      Erase(n);
    }
    live_.swap(touched_);
    touched_.clear();
    live_is_stale_ = false;
  }

  // The pass was discarded after part of a body (parse error, limit): as Prometheus 2.42,
  // the series it saw before the failure still count as exposed. Calls stale(Node&) for
  // the live series it did not see; the ones it saw become the live set. Entries first
  // seen in it keep their labels but not their storage ref (their appender was rolled back).
  template <typename Fn>
  void CommitPartial(Fn&& stale) {
    for (Node* n : touched_) {
      if (n->second.live_pos == kNotLive) n->second.ref = 0;
    }
    Commit(std::forward<Fn>(stale));
  }

  // The pass was discarded without a body. Calls stale(Node&) for each live series (once
  // per outage).
  template <typename Fn>
  void Fail(Fn&& stale) {
    for (Node* n : touched_) {
      if (n->second.live_pos == kNotLive) Erase(n);  // first seen in the failed pass
    }
    touched_.clear();
    if (!live_is_stale_) {
      for (Node* n : live_) {
        if (!n->second.dropped && n->second.track_staleness) stale(*n);
      }
    }
    live_is_stale_ = true;
  }

  // Calls fn(Node&) for each live series not yet marked stale (for a loop's final markers).
  template <typename Fn>
  void ForEachLive(Fn&& fn) {
    if (live_is_stale_) return;
    for (Node* n : live_) {
      if (!n->second.dropped && n->second.track_staleness) fn(*n);
    }
  }
  void MarkAllStale() { live_is_stale_ = true; }

  size_t size() const { return map_.size(); }
  // Series of the last committed pass that were ingested (not dropped).
  size_t LiveSeries() const { return live_is_stale_ ? 0 : live_series_; }
  uint64_t iteration() const { return iter_; }

 private:
  void Erase(Node* n) { map_.erase(map_.find(std::string_view(n->first))); }

  Map map_;
  std::vector<Node*> touched_;  // seen in the pass in progress, in exposition order
  std::vector<Node*> live_;     // seen in the last committed pass, in exposition order
  size_t cursor_ = 0;           // position in live_ predicted for the next Find()
  bool in_order_ = true;
  bool live_is_stale_ = false;
  size_t live_series_ = 0;
  uint64_t iter_ = 0;
};

}  // namespace shardwise::scrape
