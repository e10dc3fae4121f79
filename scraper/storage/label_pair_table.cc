#include "scraper/storage/label_pair_table.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <functional>
#include <cstring>
#include <utility>

#include "common/varint.h"

namespace shardwise::storage {
namespace {

// Field tags of the remote-write Label message inside TimeSeries.labels.
constexpr char kTagLabel = (1 << 3) | 2;  // TimeSeries.labels
constexpr char kTagName = (1 << 3) | 2;   // Label.name
constexpr char kTagValue = (2 << 3) | 2;  // Label.value

size_t AllocationBytes(size_t size) {
  // glibc malloc: 8 bytes of header, 16-byte granularity, 32 bytes at least.
  size_t n = (size + 8 + 15) & ~size_t{15};
  return n < 32 ? 32 : n;
}

size_t StringFieldSize(std::string_view s) {
  return s.empty() ? 0 : 1 + VarintSize(s.size()) + s.size();
}

char* PutStringField(char* p, char tag, std::string_view s) {
  if (s.empty()) return p;  // proto3 omits empty strings
  *p++ = tag;
  p = PutVarint(p, s.size());
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// The Label message for (name, value), tag and length first: proto3 bytes, as libprotobuf
// writes them.
char* NewLabelBytes(std::string_view name, std::string_view value, size_t* size) {
  const size_t body = StringFieldSize(name) + StringFieldSize(value);
  *size = 1 + VarintSize(body) + body;
  char* bytes = new char[*size];
  char* p = bytes;
  *p++ = kTagLabel;
  p = PutVarint(p, body);
  p = PutStringField(p, kTagName, name);
  PutStringField(p, kTagValue, value);
  return bytes;
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
  for (uint32_t id = 0; id < next_id_; ++id) delete[] At(id).bytes;
}

uint32_t LabelPairTable::PairHash(std::string_view name, std::string_view value) {
  const uint64_t seed = XXH3_64bits(name.data(), name.size());
  return static_cast<uint32_t>(XXH3_64bits_withSeed(value.data(), value.size(), seed));
}

const LabelPairTable::Entry& LabelPairTable::At(uint32_t id) const {
  const uint64_t x = uint64_t{id} + (uint64_t{1} << kFirstChunkBits);
  const int k = std::bit_width(x) - 1 - static_cast<int>(kFirstChunkBits);
  return chunks_[k][x - (uint64_t{1} << (k + kFirstChunkBits))];
}

std::string_view LabelPairTable::name(uint32_t id) const {
  return LabelField(At(id).bytes, kTagName);
}

std::string_view LabelPairTable::value(uint32_t id) const {
  return LabelField(At(id).bytes, kTagValue);
}

uint32_t LabelPairTable::FindLocked(std::string_view name, std::string_view value,
                                    uint32_t hash) const {
  const IdSlot* slot = by_pair_.Find(hash, [&](const IdSlot& s) {
    if (s.hash != hash) return false;
    const char* bytes = At(s.id1 - 1).bytes;
    return LabelField(bytes, kTagValue) == value && LabelField(bytes, kTagName) == name;
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
      if (!chunks_[k]) chunks_[k] = std::make_unique<Entry[]>(size_t{1} << (k + kFirstChunkBits));
    }
    Entry& e = At(id);
    size_t size = 0;
    e.bytes = NewLabelBytes(name, value, &size);
    e.size = static_cast<uint32_t>(size);
    bytes_ += AllocationBytes(size);
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
    bytes_ -= AllocationBytes(e.size);
    delete[] e.bytes;
    e = Entry();
    free_.push_back(id);
    std::push_heap(free_.begin(), free_.end(), std::greater<>());
  }
}

size_t LabelPairTable::HeldBytes(uint32_t id) const {
  return AllocationBytes(At(id).size) + sizeof(Entry) + sizeof(IdSlot) * 3 / 2;
}

size_t LabelPairTable::size() const {
  std::lock_guard lock(mu_);
  return by_pair_.size();
}

size_t LabelPairTable::MemoryBytes() const {
  std::lock_guard lock(mu_);
  size_t bytes = bytes_ + by_pair_.MemoryBytes() + free_.capacity() * sizeof(uint32_t);
  for (size_t k = 0; k < kChunks && chunks_[k]; ++k) {
    bytes += (size_t{1} << (k + kFirstChunkBits)) * sizeof(Entry);
  }
  return bytes;
}

}  // namespace shardwise::storage
