// Postings: for every label name and value, the sorted list of series refs carrying that
// pair, plus the list of all refs. Selecting series is set algebra over these lists
// (intersect for positive matchers, subtract for negative ones), so a query never scans
// series data. Keys are views into the head's StringPool. Not thread-safe: the head's
// index lock guards it.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace shardwise::tsdb {

using Postings = std::vector<uint64_t>;  // sorted ascending, unique

class MemPostings {
 public:
  void Add(uint64_t ref, std::string_view name, std::string_view value);
  void AddToAll(uint64_t ref);
  // Removes `refs` from the pair's list (and the pair when it empties).
  void Remove(std::string_view name, std::string_view value,
              const std::unordered_set<uint64_t>& refs);
  void RemoveFromAll(const std::unordered_set<uint64_t>& refs);

  // nullptr when the pair is unknown.
  const Postings* Get(std::string_view name, std::string_view value) const;
  const Postings& All() const { return all_; }
  // Calls fn(value, postings) for every value of `name`.
  template <typename Fn>
  void ForEachValue(std::string_view name, Fn&& fn) const {
    auto it = index_.find(name);
    if (it == index_.end()) return;
    for (const auto& [value, list] : it->second) fn(value, list);
  }
  template <typename Fn>
  void ForEachName(Fn&& fn) const {
    for (const auto& [name, values] : index_) fn(name);
  }
  size_t MemoryBytes() const;

 private:
  using Values = std::unordered_map<std::string_view, Postings>;
  std::unordered_map<std::string_view, Values> index_;
  Postings all_;
};

Postings Intersect(const Postings& a, const Postings& b);
Postings Union(const std::vector<const Postings*>& lists);
Postings Subtract(const Postings& a, const Postings& b);

}  // namespace shardwise::tsdb
