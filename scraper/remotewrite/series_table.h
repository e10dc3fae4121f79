// SeriesTable: pointers by WAL ref — a remote-write queue's series (each one's encoded labels,
// a block held in a SeriesStore, or null: known but dropped by relabeling), and the store's
// own index.
//
// The TSDB hands out refs densely and in order, so the table is pages of 256 slots indexed
// by ref (8 bytes per series) rather than a hash node per series; pages are found by page
// number in a small map (the last one cached), so sparse refs cost a page each, never an
// error. Emptied pages are freed. Not thread-safe. Owns nothing: the blocks belong to
// whoever put them there.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <memory>
#include <unordered_map>

namespace shardwise::remotewrite {

class SeriesTable {
 public:
  // The slot of `ref`, made known (with a null block) if it was not; *was_known tells.
  const char*& Define(uint64_t ref, bool* was_known) {
    Page* p = PageOf(ref, /*create=*/true);
    const size_t i = ref & kMask;
    *was_known = p->known[i];
    if (!*was_known) {
      p->known[i] = true;
      p->slots[i] = nullptr;
      ++p->count;
      ++size_;
    }
    return p->slots[i];
  }
  // The slot of `ref`, or nullptr when the ref is unknown.
  const char** Find(uint64_t ref) {
    Page* p = PageOf(ref, /*create=*/false);
    return p && p->known[ref & kMask] ? &p->slots[ref & kMask] : nullptr;
  }
  // Forgets `ref` and hands back its block (null when unknown or dropped).
  const char* Erase(uint64_t ref) {
    Page* p = PageOf(ref, /*create=*/false);
    const size_t i = ref & kMask;
    if (!p || !p->known[i]) return nullptr;
    const char* out = p->slots[i];
    p->known[i] = false;
    --size_;
    if (--p->count == 0) {
      pages_.erase(ref >> kBits);
      last_ = nullptr;
    }
    return out;
  }
  // Calls fn(ref, block) for every known ref, then forgets them all.
  template <typename Fn>
  void Clear(Fn fn) {
    for (auto& [n, page] : pages_) {
      for (size_t i = 0; i < page->slots.size(); ++i) {
        if (page->known[i]) fn((n << kBits) | i, page->slots[i]);
      }
    }
    pages_.clear();
    last_ = nullptr;
    size_ = 0;
  }
  size_t size() const { return size_; }

 private:
  static constexpr int kBits = 8;
  static constexpr uint64_t kMask = (uint64_t{1} << kBits) - 1;
  struct Page {
    std::array<const char*, size_t{1} << kBits> slots;
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
