// Postings: sorted lists of series refs, one per label pair (kept by LabelPairs,
// label_pairs.h), and the set algebra over them that selects series (intersect for
// positive matchers, subtract for negative ones), so a query never scans series data.
// Not thread-safe: the head's index lock guards the lists.
//
// Memory: most label values that identify a series (instance, pod, series ids) carry a
// single ref, so a list keeps one ref inline; longer lists grow on the heap.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <unordered_set>
#include <vector>

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

Postings Intersect(const Postings& a, const Postings& b);
Postings Union(const std::vector<PostingsView>& lists);
Postings Subtract(const Postings& a, const Postings& b);

}  // namespace shardwise::tsdb
