// Postings: for every label name and value, the sorted list of series refs carrying that
// pair, plus the list of all refs. Selecting series is set algebra over these lists
// (intersect for positive matchers, subtract for negative ones), so a query never scans
// series data. Keys are the head's pooled strings. Not thread-safe: the head's index lock
// guards it.
//
// Memory: most label values that identify a series (instance, pod, series ids) carry a
// single ref, so a list keeps one ref inline and a value costs one 24-byte flat-table slot;
// longer lists grow on the heap.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "scraper/tsdb/index/flat_table.h"
#include "scraper/tsdb/index/string_pool.h"

namespace shardwise::tsdb {

using Postings = std::vector<uint64_t>;  // sorted ascending, unique
using PostingsView = std::span<const uint64_t>;

// A sorted, unique list of refs; a single ref lives inline.
class PostingsList {
 public:
  PostingsList() = default;
  ~PostingsList() { delete[] heap(); }
  PostingsList(PostingsList&& o) noexcept : one_(o.one_), size_(o.size_), cap_(o.cap_) {
    o.size_ = o.cap_ = 0;
  }
  PostingsList& operator=(PostingsList&& o) noexcept;
  PostingsList(const PostingsList&) = delete;
  PostingsList& operator=(const PostingsList&) = delete;

  void Insert(uint64_t ref);
  void Remove(const std::unordered_set<uint64_t>& refs);
  PostingsView view() const { return {cap_ == 0 ? &one_ : heap(), size_}; }
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  size_t HeapBytes() const { return cap_ * sizeof(uint64_t); }

 private:
  uint64_t* heap() const { return cap_ == 0 ? nullptr : reinterpret_cast<uint64_t*>(one_); }
  void Reallocate(uint32_t cap);
  uint64_t one_ = 0;  // the ref when cap_ == 0, else the heap array's address
  uint32_t size_ = 0;
  uint32_t cap_ = 0;
};

class MemPostings {
 public:
  void Add(uint64_t ref, const PooledString* name, const PooledString* value);
  void AddToAll(uint64_t ref);
  // Removes `refs` from the pair's list (and the pair when it empties).
  void Remove(const PooledString* name, const PooledString* value,
              const std::unordered_set<uint64_t>& refs);
  void RemoveFromAll(const std::unordered_set<uint64_t>& refs);

  // Empty when the pair is unknown.
  PostingsView Get(std::string_view name, std::string_view value) const;
  const Postings& All() const { return all_; }
  // Calls fn(value, postings) for every value of `name`.
  template <typename Fn>
  void ForEachValue(std::string_view name, Fn&& fn) const {
    auto it = index_.find(name);
    if (it == index_.end()) return;
    it->second.ForEach([&](const ValueSlot& s) { fn(s.value->view(), s.list.view()); });
  }
  template <typename Fn>
  void ForEachName(Fn&& fn) const {
    for (const auto& [name, values] : index_) fn(name);
  }
  size_t MemoryBytes() const;

 private:
  struct ValueSlot {
    const PooledString* value = nullptr;
    PostingsList list;
  };
  struct ValueTraits {
    static bool Empty(const ValueSlot& s) { return s.value == nullptr; }
    static uint64_t Hash(const ValueSlot& s) { return s.value->hash(); }
  };
  using Values = FlatTable<ValueSlot, ValueTraits>;
  std::unordered_map<std::string_view, Values> index_;  // keys view pooled names
  Postings all_;
};

Postings Intersect(const Postings& a, const Postings& b);
Postings Union(const std::vector<PostingsView>& lists);
Postings Subtract(const Postings& a, const Postings& b);

}  // namespace shardwise::tsdb
