// LabelPairs: the head's symbol table and postings index in one. Every distinct
// (name, value) label pair of the head's series is interned once under a 32-bit id, so a
// series holds its labels as an array of ids (4 B per label instead of two pointers or
// strings). Each pair owns its postings: the sorted refs of the series carrying it. The
// postings size is therefore the pair's reference count: when the last series carrying a
// pair is removed, the pair, its id and (through the StringPool) its strings go too, and
// the id is reused by a later pair. Ids are dense, so a pair is found by id with one array
// index; by (name, value) with one flat-table probe.
//
// Not thread-safe; the head guards it with its index lock.
//
// Memory per distinct pair: 40 B of entry plus an 8-byte slot in the by-pair table and
// one in its name's table (at 44-88 % load), plus the postings beyond one inline ref.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "scraper/tsdb/index/flat_table.h"
#include "scraper/tsdb/index/postings.h"
#include "scraper/tsdb/index/string_pool.h"

namespace shardwise::tsdb {

class LabelPairs {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  LabelPairs() = default;
  ~LabelPairs();
  LabelPairs(const LabelPairs&) = delete;
  LabelPairs& operator=(const LabelPairs&) = delete;

  // The id of (name, value), creating the pair when new, with `ref` added to its postings.
  uint32_t Add(std::string_view name, std::string_view value, uint64_t ref);
  // The id of (name, value), or kNone; nothing is added.
  uint32_t Find(std::string_view name, std::string_view value) const;
  // Removes `refs` from the pair's postings; the pair is freed when none is left.
  void Remove(uint32_t id, const std::unordered_set<uint64_t>& refs);

  std::string_view name(uint32_t id) const { return pairs_[id].name->view(); }
  std::string_view value(uint32_t id) const { return pairs_[id].value->view(); }
  const PostingsList& postings(uint32_t id) const { return pairs_[id].list; }
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
    it->second.ForEach([&](const IdSlot& s) {
      const Pair& p = pairs_[s.id1 - 1];
      fn(p.value->view(), p.list);
    });
  }
  template <typename Fn>
  void ForEachName(Fn&& fn) const {
    for (const auto& [name, ids] : by_name_) fn(name);
  }

  size_t size() const { return by_pair_.size(); }  // distinct pairs
  size_t strings() const { return strings_.size(); }
  // Approximate heap bytes: entries, tables, postings and strings.
  size_t MemoryBytes() const;

 private:
  struct Pair {
    const PooledString* name = nullptr;  // null: a free id
    const PooledString* value = nullptr;
    uint32_t hash = 0;
    PostingsList list;
  };
  // id + 1 (0: empty) and the pair's hash, so the table rehashes without reading pairs.
  struct IdSlot {
    uint32_t id1 = 0;
    uint32_t hash = 0;
  };
  struct IdTraits {
    static bool Empty(const IdSlot& s) { return s.id1 == 0; }
    static uint64_t Hash(const IdSlot& s) { return s.hash; }
  };
  using IdTable = FlatTable<IdSlot, IdTraits>;
  static uint32_t PairHash(std::string_view name, std::string_view value);

  StringPool strings_;
  std::vector<Pair> pairs_;     // by id
  std::vector<uint32_t> free_;  // ids of freed pairs, reused first
  IdTable by_pair_;
  std::unordered_map<std::string_view, IdTable> by_name_;  // keys view pooled names
  PostingsList all_;
};

}  // namespace shardwise::tsdb
