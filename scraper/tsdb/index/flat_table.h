// FlatTable: an open-addressing hash table (linear probing, backward-shift deletion) whose
// slots live in one array. The head keeps one entry per series and per distinct label
// string in such tables; a node-based std::unordered_map costs a heap node (~32-64 B) plus
// a bucket pointer per entry, a flat slot costs its own size at 44-88 % load.
//
// Slot is a small movable value whose value-initialised state means "empty". Traits:
//   static bool Empty(const Slot&);
//   static uint64_t Hash(const Slot&);   // of a non-empty slot; well mixed low bits
// Callers look entries up by hash plus an equality predicate, so a key need not be stored
// in the slot (the head compares label sets held by the series a slot points to).
// Pointers to slots are invalidated by Insert and Erase. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace shardwise::tsdb {

template <typename Slot, typename Traits>
class FlatTable {
 public:
  // The first slot with `hash` for which eq(slot) holds, or nullptr.
  template <typename Eq>
  Slot* Find(uint64_t hash, Eq&& eq) {
    if (slots_.empty()) return nullptr;
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (Traits::Empty(s)) return nullptr;
      if (eq(static_cast<const Slot&>(s))) return &s;
    }
  }
  template <typename Eq>
  const Slot* Find(uint64_t hash, Eq&& eq) const {
    return const_cast<FlatTable*>(this)->Find(hash, std::forward<Eq>(eq));
  }

  // Adds a non-empty slot (the caller knows its key is absent); returns where it lives.
  Slot* Insert(Slot slot) {
    // Up to 7/8 full: lookups of present keys (every append path) stay at a few probes;
    // misses, which only series creation pays, get longer.
    if ((size_ + 1) * 8 > slots_.size() * 7) Rehash(slots_.empty() ? 16 : slots_.size() * 2);
    const size_t mask = slots_.size() - 1;
    size_t i = Traits::Hash(slot) & mask;
    while (!Traits::Empty(slots_[i])) i = (i + 1) & mask;
    slots_[i] = std::move(slot);
    ++size_;
    return &slots_[i];
  }

  // Removes the slot `at` points to (from Find), moving later entries of its probe run
  // back so that lookups need no tombstones.
  void Erase(Slot* at) {
    const size_t mask = slots_.size() - 1;
    size_t hole = static_cast<size_t>(at - slots_.data());
    for (size_t j = (hole + 1) & mask; !Traits::Empty(slots_[j]); j = (j + 1) & mask) {
      const size_t home = Traits::Hash(slots_[j]) & mask;
      // Entry j may fill the hole when the hole lies on its probe path (home .. j).
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        slots_[hole] = std::move(slots_[j]);
        hole = j;
      }
    }
    slots_[hole] = Slot{};
    --size_;
    if (size_ == 0) {
      slots_.clear();
      slots_.shrink_to_fit();
    } else if (slots_.size() > 64 && size_ * 8 < slots_.size()) {
      Rehash(slots_.size() / 4);
    }
  }

  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const Slot& s : slots_) {
      if (!Traits::Empty(s)) fn(s);
    }
  }
  template <typename Fn>
  void ForEachMutable(Fn&& fn) {
    for (Slot& s : slots_) {
      if (!Traits::Empty(s)) fn(s);
    }
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t MemoryBytes() const { return slots_.capacity() * sizeof(Slot); }

 private:
  void Rehash(size_t capacity) {  // a power of two above size_
    std::vector<Slot> old = std::move(slots_);
    slots_ = std::vector<Slot>(capacity);
    const size_t mask = capacity - 1;
    for (Slot& s : old) {
      if (Traits::Empty(s)) continue;
      size_t i = Traits::Hash(s) & mask;
      while (!Traits::Empty(slots_[i])) i = (i + 1) & mask;
      slots_[i] = std::move(s);
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

// A slot naming a dense 32-bit id: id + 1 (0: empty) and the key's hash, so the table
// rehashes without reading the entries the ids point to. The pair tables of the head and
// of the process index their pairs this way.
struct IdSlot {
  uint32_t id1 = 0;
  uint32_t hash = 0;
};
struct IdSlotTraits {
  static bool Empty(const IdSlot& s) { return s.id1 == 0; }
  static uint64_t Hash(const IdSlot& s) { return s.hash; }
};
using IdTable = FlatTable<IdSlot, IdSlotTraits>;

}  // namespace shardwise::tsdb
