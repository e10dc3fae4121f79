#include "scraper/storage/label_pair_table.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <utility>

#include "common/varint.h"
#include "scraper/storage/label_wire.h"

namespace shardwise::storage {
namespace {

size_t AllocationBytes(size_t size) {
  // glibc malloc: 8 bytes of header, 16-byte granularity, 32 bytes at least.
  size_t n = (size + 8 + 15) & ~size_t{15};
  return n < 32 ? 32 : n;
}

// Field `tag` of the Label message at `bytes` (empty when absent).
std::string_view LabelField(const char* bytes, char tag) {
  uint64_t body = 0;
  const char* p = GetVarint(bytes + 1, &body);
  const char* end = p + body;
  while (p < end) {
    const char t = *p++;
    uint64_t n = 0;
    p = GetVarint(p, &n);
    if (t == tag) return {p, n};
    p += n;
  }
  return {};
}

}  // namespace

const std::shared_ptr<LabelPairTable>& LabelPairTable::Process() {
  static const std::shared_ptr<LabelPairTable> table = std::make_shared<LabelPairTable>();
  return table;
}

LabelPairTable::~LabelPairTable() {
  for (uint32_t id = 0; id < next_id_; ++id) {
    const Entry& e = At(id);
    if (e.size > kInline) delete[] e.heap_bytes;
  }
}

uint32_t LabelPairTable::PairHash(std::string_view name, std::string_view value) {
  const uint64_t seed = XXH3_64bits(name.data(), name.size());
  return static_cast<uint32_t>(XXH3_64bits_withSeed(value.data(), value.size(), seed));
}

std::string_view LabelPairTable::name(uint32_t id) const {
  return LabelField(encoded(id).data(), label_wire::kTagName);
}

std::string_view LabelPairTable::value(uint32_t id) const {
  return LabelField(encoded(id).data(), label_wire::kTagValue);
}

uint32_t LabelPairTable::FindLocked(std::string_view name, std::string_view value,
                                    uint32_t hash) const {
  const IdSlot* slot = by_pair_.Find(hash, [&](const IdSlot& s) {
    if (s.hash != hash) return false;
    const char* bytes = encoded(s.id1 - 1).data();
    return LabelField(bytes, label_wire::kTagValue) == value &&
           LabelField(bytes, label_wire::kTagName) == name;
  });
  return slot ? slot->id1 - 1 : kNone;
}

uint32_t LabelPairTable::Find(std::string_view name, std::string_view value) const {
  const uint32_t hash = PairHash(name, value);
  std::lock_guard lock(mu_);
  return FindLocked(name, value, hash);
}

uint32_t LabelPairTable::AcquireLocked(std::string_view name, std::string_view value) {
  const uint32_t hash = PairHash(name, value);
  uint32_t id = FindLocked(name, value, hash);
  if (id == kNone) {
    if (!free_.empty()) {
      std::pop_heap(free_.begin(), free_.end(), std::greater<>());
      id = free_.back();
      free_.pop_back();
    } else {
      id = next_id_++;
      const uint64_t x = uint64_t{id} + (uint64_t{1} << kFirstChunkBits);
      const int k = std::bit_width(x) - 1 - static_cast<int>(kFirstChunkBits);
      if (!chunks_[k]) {
        // Not zeroed: the pages are touched as ids reach them.
        const size_t n = size_t{1} << (k + kFirstChunkBits);
        chunk_memory_[k] = std::make_unique_for_overwrite<char[]>(n * sizeof(Entry) + 64);
        const auto at = reinterpret_cast<uintptr_t>(chunk_memory_[k].get());
        chunks_[k] = reinterpret_cast<Entry*>((at + 63) & ~uintptr_t{63});
      }
    }
    Entry& e = At(id);
    const size_t size = LabelMessageSize(name, value);
    e.refs = 0;
    e.size = static_cast<uint32_t>(size);
    if (size <= kInline) {
      PutLabelMessage(e.inline_bytes, name, value);
    } else {
      char* bytes = new char[size];
      PutLabelMessage(bytes, name, value);
      e.heap_bytes = bytes;
      heap_bytes_ += AllocationBytes(size);
    }
    by_pair_.Insert(IdSlot{id + 1, hash});
  }
  ++At(id).refs;
  return id;
}

uint32_t LabelPairTable::Acquire(std::string_view name, std::string_view value) {
  std::lock_guard lock(mu_);
  return AcquireLocked(name, value);
}

void LabelPairTable::AcquireAll(const Labels& labels, uint32_t* ids) {
  std::lock_guard lock(mu_);
  for (const Label& l : labels) *ids++ = AcquireLocked(l.name, l.value);
}

void LabelPairTable::Release(std::span<const uint32_t> ids) {
  std::lock_guard lock(mu_);
  for (uint32_t id : ids) {
    Entry& e = At(id);
    if (--e.refs > 0) continue;
    const uint32_t hash = PairHash(name(id), value(id));
    if (IdSlot* s = by_pair_.Find(hash, [&](const IdSlot& s) { return s.id1 == id + 1; })) {
      by_pair_.Erase(s);
    }
    if (e.size > kInline) {
      heap_bytes_ -= AllocationBytes(e.size);
      delete[] e.heap_bytes;
    }
    e.size = 0;
    free_.push_back(id);
    std::push_heap(free_.begin(), free_.end(), std::greater<>());
  }
}

size_t LabelPairTable::HeldBytes(uint32_t id) const {
  const uint32_t size = At(id).size;
  return (size > kInline ? AllocationBytes(size) : 0) + sizeof(Entry) + sizeof(IdSlot) * 3 / 2;
}

size_t LabelPairTable::size() const {
  std::lock_guard lock(mu_);
  return by_pair_.size();
}

size_t LabelPairTable::MemoryBytes() const {
  std::lock_guard lock(mu_);
  // Entries up to the highest id handed out: the rest of the last chunk is untouched.
  return heap_bytes_ + by_pair_.MemoryBytes() + free_.capacity() * sizeof(uint32_t) +
         size_t{next_id_} * sizeof(Entry);
}

}  // namespace shardwise::storage
