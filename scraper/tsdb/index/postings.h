// Postings: sorted lists of series refs, one per label pair (kept by LabelPairs,
// label_pairs.h), and the set algebra over them that selects series (intersect for
// positive matchers, subtract for negative ones), so a query never scans series data.
// Not thread-safe: the head's index lock guards the lists.
//
// Memory: most label values that identify a series (instance, pod, series ids) carry a
// single ref, so a list keeps one ref inline; longer lists grow on the heap.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace shardwise::tsdb {

using Postings = std::vector<uint64_t>;  // sorted ascending, unique

// A sorted, unique list of refs. One ref lives inline; more are kept as varint deltas in
// one heap block (a 16-byte header: the last ref and the capacity, then the bytes). Refs
// are handed out densely and in order, so the series of one target or one metric sit
// close together and most deltas take one byte where a plain array takes eight. Appending
// a ref above the last one is the common case and costs no decoding; inserting below it
// or removing decodes and re-encodes the list (replay out of order, retention).
class PostingsList {
 public:
  PostingsList() = default;
  ~PostingsList() { Free(); }
  PostingsList(PostingsList&& o) noexcept : one_(o.one_), size_(o.size_), used_(o.used_) {
    o.size_ = o.used_ = 0;
  }
  PostingsList& operator=(PostingsList&& o) noexcept;
  PostingsList(const PostingsList&) = delete;
  PostingsList& operator=(const PostingsList&) = delete;

  void Insert(uint64_t ref);
  void Remove(const std::unordered_set<uint64_t>& refs);
  // The refs, ascending.
  Postings Decode() const;
  void AppendTo(Postings* out) const;
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  size_t HeapBytes() const;

 private:
  struct Block {
    uint64_t last;
    uint32_t cap;  // bytes after the header
    uint32_t unused;
    unsigned char* bytes() { return reinterpret_cast<unsigned char*>(this + 1); }
  };
  Block* block() const { return size_ >= 2 ? reinterpret_cast<Block*>(one_) : nullptr; }
  void Free();
  // Replaces the contents with `refs` (sorted, unique), exactly sized.
  void Assign(const Postings& refs);
  uint64_t one_ = 0;   // the ref when size_ == 1; the Block's address when size_ >= 2
  uint32_t size_ = 0;  // refs held
  uint32_t used_ = 0;  // bytes of the block in use
};

Postings Intersect(const Postings& a, const Postings& b);
Postings Union(const std::vector<const PostingsList*>& lists);
Postings Subtract(const Postings& a, const Postings& b);

}  // namespace shardwise::tsdb
