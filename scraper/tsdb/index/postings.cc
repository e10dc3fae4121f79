#include "scraper/tsdb/index/postings.h"

#include <algorithm>
#include <cstring>
#include <iterator>

namespace shardwise::tsdb {
PostingsList& PostingsList::operator=(PostingsList&& o) noexcept {
  if (this != &o) {
    delete[] heap();
    one_ = o.one_;
    size_ = o.size_;
    cap_ = o.cap_;
    o.size_ = o.cap_ = 0;
  }
  return *this;
}

void PostingsList::Reallocate(uint32_t cap) {
  uint64_t* fresh = cap == 0 ? nullptr : new uint64_t[cap];
  PostingsView old = view();
  if (fresh) std::copy(old.begin(), old.end(), fresh);
  uint64_t* old_heap = heap();
  if (cap == 0) {
    one_ = size_ == 1 ? old[0] : 0;
  } else {
    one_ = reinterpret_cast<uint64_t>(fresh);
  }
  cap_ = cap;
  delete[] old_heap;
}

void PostingsList::Insert(uint64_t ref) {
  if (size_ == 0 && cap_ == 0) {
    one_ = ref;
    size_ = 1;
    return;
  }
  PostingsView v = view();
  // Refs are handed out in increasing order, so this nearly always appends.
  size_t at = v.back() < ref
                  ? size_
                  : static_cast<size_t>(std::lower_bound(v.begin(), v.end(), ref) - v.begin());
  if (at < size_ && v[at] == ref) return;
  const uint32_t capacity = cap_ == 0 ? 1 : cap_;
  if (size_ == capacity) Reallocate(capacity < 4 ? 4 : capacity + capacity / 2);
  uint64_t* data = heap();
  std::memmove(data + at + 1, data + at, (size_ - at) * sizeof(uint64_t));
  data[at] = ref;
  ++size_;
}

void PostingsList::Remove(const std::unordered_set<uint64_t>& refs) {
  if (cap_ == 0) {
    if (size_ == 1 && refs.count(one_)) size_ = 0;
    return;
  }
  uint64_t* data = heap();
  size_ = static_cast<uint32_t>(
      std::remove_if(data, data + size_, [&](uint64_t r) { return refs.count(r) > 0; }) - data);
  if (size_ <= 1) {
    Reallocate(0);
  } else if (cap_ > 2 * size_ + 8) {
    Reallocate(size_);
  }
}

Postings Intersect(const Postings& a, const Postings& b) {
  Postings out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

Postings Union(const std::vector<PostingsView>& lists) {
  if (lists.empty()) return {};
  if (lists.size() == 1) return Postings(lists[0].begin(), lists[0].end());
  Postings out;
  size_t total = 0;
  for (const auto& l : lists) total += l.size();
  out.reserve(total);
  for (const auto& l : lists) out.insert(out.end(), l.begin(), l.end());
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
