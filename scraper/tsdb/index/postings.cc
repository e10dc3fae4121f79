#include "scraper/tsdb/index/postings.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "common/varint.h"

namespace shardwise::tsdb {
namespace {

// Block sizes glibc malloc serves without slack: 16-byte steps minus its 8-byte header.
size_t MallocFit(size_t bytes) { return (bytes + 8 + 15) / 16 * 16 - 8; }

}  // namespace

PostingsList& PostingsList::operator=(PostingsList&& o) noexcept {
  if (this != &o) {
    Free();
    one_ = o.one_;
    size_ = o.size_;
    used_ = o.used_;
    o.size_ = o.used_ = 0;
  }
  return *this;
}

void PostingsList::Free() {
  if (Block* b = block()) ::operator delete(b);
  one_ = 0;
  size_ = used_ = 0;
}

size_t PostingsList::HeapBytes() const {
  const Block* b = block();
  return b ? sizeof(Block) + b->cap : 0;
}

void PostingsList::AppendTo(Postings* out) const {
  if (size_ == 0) return;
  if (size_ == 1) {
    out->push_back(one_);
    return;
  }
  out->reserve(out->size() + size_);
  const unsigned char* p = block()->bytes();
  const unsigned char* end = p + used_;
  uint64_t ref = 0;
  while (p < end) {
    uint64_t delta = 0;
    for (int shift = 0;; shift += 7) {
      const unsigned char c = *p++;
      delta |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (c < 0x80) break;
    }
    ref += delta;
    out->push_back(ref);
  }
}

Postings PostingsList::Decode() const {
  Postings out;
  AppendTo(&out);
  return out;
}

void PostingsList::Assign(const Postings& refs) {
  Free();
  if (refs.empty()) return;
  if (refs.size() == 1) {
    one_ = refs[0];
    size_ = 1;
    return;
  }
  size_t bytes = 0;
  uint64_t prev = 0;
  for (uint64_t r : refs) {
    bytes += VarintSize(r - prev);
    prev = r;
  }
  const size_t cap = MallocFit(sizeof(Block) + bytes) - sizeof(Block);
  auto* b = static_cast<Block*>(::operator new(sizeof(Block) + cap));
  b->cap = static_cast<uint32_t>(cap);
  b->last = refs.back();
  unsigned char* p = b->bytes();
  prev = 0;
  for (uint64_t r : refs) {
    p = PutVarint(p, r - prev);
    prev = r;
  }
  one_ = reinterpret_cast<uint64_t>(b);
  size_ = static_cast<uint32_t>(refs.size());
  used_ = static_cast<uint32_t>(bytes);
}

void PostingsList::Insert(uint64_t ref) {
  if (size_ == 0) {
    one_ = ref;
    size_ = 1;
    return;
  }
  Block* b = block();
  const uint64_t last = b ? b->last : one_;
  if (ref == last) return;
  if (ref < last || size_ == 1) {
    Postings refs = Decode();
    auto it = std::lower_bound(refs.begin(), refs.end(), ref);
    if (it != refs.end() && *it == ref) return;
    refs.insert(it, ref);
    Assign(refs);
    return;
  }
  // Refs are handed out in increasing order, so this is nearly always the path taken.
  const uint64_t delta = ref - last;
  if (used_ + VarintSize(delta) > b->cap) {
    const size_t want = used_ + 10 + used_ / 4;  // about a quarter more
    const size_t cap = MallocFit(sizeof(Block) + want) - sizeof(Block);
    auto* fresh = static_cast<Block*>(::operator new(sizeof(Block) + cap));
    fresh->cap = static_cast<uint32_t>(cap);
    fresh->last = b->last;
    std::memcpy(fresh->bytes(), b->bytes(), used_);
    ::operator delete(b);
    b = fresh;
    one_ = reinterpret_cast<uint64_t>(b);
  }
  used_ = static_cast<uint32_t>(PutVarint(b->bytes() + used_, delta) - b->bytes());
  b->last = ref;
  ++size_;
}

void PostingsList::Remove(const std::unordered_set<uint64_t>& refs) {
  if (size_ == 0) return;
  Postings kept = Decode();
  const size_t before = kept.size();
  kept.erase(
      std::remove_if(kept.begin(), kept.end(), [&](uint64_t r) { return refs.count(r) > 0; }),
      kept.end());
  if (kept.size() != before) Assign(kept);
}

Postings Intersect(const Postings& a, const Postings& b) {
  Postings out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

Postings Union(const std::vector<const PostingsList*>& lists) {
  if (lists.empty()) return {};
  if (lists.size() == 1) return lists[0]->Decode();
  Postings out;
  size_t total = 0;
  for (const PostingsList* l : lists) total += l->size();
  out.reserve(total);
  for (const PostingsList* l : lists) l->AppendTo(&out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Postings Subtract(const Postings& a, const Postings& b) {
  Postings out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace shardwise::tsdb
