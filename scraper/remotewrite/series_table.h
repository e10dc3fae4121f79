// SeriesTable: a remote-write queue's series, by WAL ref: each one's encoded labels in one
// exact-size block (a 4-byte length, then the bytes), or "dropped" (known, but relabeled
// away: a null block).
//
// The TSDB hands out refs densely and in order, so the table is pages of 256 slots indexed
// by ref (8 bytes per series) rather than a hash node per series; pages are found by page
// number in a small map (the last one cached), so sparse refs cost a page each, never an
// error. Emptied pages are freed. Not thread-safe (the queue's reader thread owns it).
#pragma once

#include <bitset>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <unordered_map>

namespace shardwise::remotewrite {

using LabelBlock = std::unique_ptr<char[]>;

inline LabelBlock MakeLabelBlock(std::string_view encoded) {
  const uint32_t n = static_cast<uint32_t>(encoded.size());
  LabelBlock block(new char[sizeof n + n]);
  std::memcpy(block.get(), &n, sizeof n);
  std::memcpy(block.get() + sizeof n, encoded.data(), n);
  return block;
}

inline std::string_view LabelBlockBytes(const char* block) {
  uint32_t n;
  std::memcpy(&n, block, sizeof n);
  return {block + sizeof n, n};
}

class SeriesTable {
 public:
  // The slot of `ref`, made known (with a null block) if it was not; *was_known tells.
  LabelBlock& Define(uint64_t ref, bool* was_known) {
    Page* p = PageOf(ref, /*create=*/true);
    const size_t i = ref & kMask;
    *was_known = p->known[i];
    if (!*was_known) {
      p->known[i] = true;
      ++p->count;
      ++size_;
    }
    return p->slots[i];
  }
  // The slot of `ref`, or nullptr when the ref is unknown.
  LabelBlock* Find(uint64_t ref) {
    Page* p = PageOf(ref, /*create=*/false);
    return p && p->known[ref & kMask] ? &p->slots[ref & kMask] : nullptr;
  }
  // Forgets `ref` and hands back its block (null when unknown or dropped).
  LabelBlock Erase(uint64_t ref) {
    Page* p = PageOf(ref, /*create=*/false);
    const size_t i = ref & kMask;
    if (!p || !p->known[i]) return nullptr;
    LabelBlock out = std::move(p->slots[i]);
    p->known[i] = false;
    --size_;
    if (--p->count == 0) {
      pages_.erase(ref >> kBits);
      last_ = nullptr;
    }
    return out;
  }
  size_t size() const { return size_; }

 private:
  static constexpr int kBits = 8;
  static constexpr uint64_t kMask = (uint64_t{1} << kBits) - 1;
  struct Page {
    LabelBlock slots[size_t{1} << kBits];
    std::bitset<size_t{1} << kBits> known;
    uint32_t count = 0;
  };
  Page* PageOf(uint64_t ref, bool create) {
    const uint64_t n = ref >> kBits;
    if (last_ && last_page_ == n) return last_;
    auto it = pages_.find(n);
    if (it == pages_.end()) {
      if (!create) return nullptr;
      it = pages_.emplace(n, std::make_unique<Page>()).first;
    }
    last_page_ = n;
    last_ = it->second.get();
    return last_;
  }

  std::unordered_map<uint64_t, std::unique_ptr<Page>> pages_;
  uint64_t last_page_ = 0;
  Page* last_ = nullptr;  // the page last looked up
  size_t size_ = 0;
};

}  // namespace shardwise::remotewrite
