// LabelPairs: the head's view of the process's label pairs (storage::LabelPairTable) plus its
// postings index. Every distinct (name, value) pair of the head's series is interned once
// per process under a 32-bit id — the id remote write's queues use for the same pair — so a
// series holds its labels as an array of ids (4 B per label) and no structure of the
// process keeps another copy of the strings. Each pair the head uses owns its postings
// here: the sorted refs of the series carrying it. The head holds one reference in the
// table per such pair: when the last series carrying a pair is removed, the head lets go
// and the pair is freed once remote write (which may still be sending that series'
// samples) has let go too. A pair is found by id with one array index; by (name, value)
// with one probe of the table.
//
// Not thread-safe; the head guards it with its index lock (the table has its own).
//
// Memory per distinct pair: the table's (a 16-byte entry, a hash slot, the Label bytes)
// plus a 16-byte postings list holding one ref inline, and an 8-byte slot in its name's
// table (at 44-88 % load).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "scraper/storage/label_pair_table.h"
#include "scraper/tsdb/index/flat_table.h"
#include "scraper/tsdb/index/postings.h"

namespace shardwise::tsdb {

class LabelPairs {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // Pairs interned in `table`; null: the process's table.
  explicit LabelPairs(std::shared_ptr<storage::LabelPairTable> table = nullptr);
  ~LabelPairs();
  LabelPairs(const LabelPairs&) = delete;
  LabelPairs& operator=(const LabelPairs&) = delete;

  // The id of (name, value), taken from the table when the head has no series with it
  // yet, with `ref` added to its postings.
  uint32_t Add(std::string_view name, std::string_view value, uint64_t ref);
  // The id of (name, value) if a series of the head carries it, else kNone.
  uint32_t Find(std::string_view name, std::string_view value) const;
  // Removes `refs` from the pair's postings; the head lets go of it when none is left.
  void Remove(uint32_t id, const std::unordered_set<uint64_t>& refs);

  std::string_view name(uint32_t id) const { return table_->name(id); }
  std::string_view value(uint32_t id) const { return table_->value(id); }
  const PostingsList& postings(uint32_t id) const { return lists_[id]; }
  // Empty when the pair is unknown.
  Postings Get(std::string_view name, std::string_view value) const;

  void AddToAll(uint64_t ref) { all_.Insert(ref); }
  void RemoveFromAll(const std::unordered_set<uint64_t>& refs) { all_.Remove(refs); }
  Postings All() const { return all_.Decode(); }

  // Calls fn(value, const PostingsList&) for every value of `name`.
  template <typename Fn>
  void ForEachValue(std::string_view name, Fn&& fn) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return;
    it->second.ForEach([&](const IdSlot& s) { fn(table_->value(s.id1 - 1), lists_[s.id1 - 1]); });
  }
  template <typename Fn>
  void ForEachName(Fn&& fn) const {
    for (const auto& [name, ids] : by_name_) fn(std::string_view(name));
  }

  size_t size() const { return held_; }  // distinct pairs of the head's series
  const storage::LabelPairTable& table() const { return *table_; }
  // Approximate heap bytes: the pairs held (their table entries and bytes, which remote
  // write may share), the postings and the name tables.
  size_t MemoryBytes() const;

 private:
  const std::shared_ptr<storage::LabelPairTable> table_;
  std::vector<PostingsList> lists_;  // by pair id; empty: the head does not hold the pair
  size_t held_ = 0;
  std::map<std::string, IdTable, std::less<>> by_name_;
  PostingsList all_;
};

}  // namespace shardwise::tsdb
