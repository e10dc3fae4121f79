// LabelPairTable: the label pairs of the process, each distinct (name, value) interned once
// under a 32-bit id that the TSDB head's index and remote write's queues both use. A series
// is an array of pair ids wherever it is kept (head, remote write), so its strings exist
// once per process however many structures refer to it.
//
// A pair's bytes are its remote-write `Label` message, tag and length included, which is
// what an encoder appends for it (a memcpy); name() and value() are views into them.
//
// Reference counted: the head holds one reference per pair its series use, each remote-write
// series block one per label. A pair is freed, and its id later reused, when the last
// reference goes, so remote write, which tails the WAL and may lag the head by hours, keeps
// the labels of series the head has already dropped for as long as it still sends them.
//
// Thread-safety: Acquire, Release and Find take a mutex (once per series definition or
// removal, never per sample). name(), value(), encoded() and hash() take no lock: they are
// for a caller holding a reference to the id, whose entry nobody changes meanwhile, and
// entries never move (chunks of doubling size, never reallocated).
//
// Memory per distinct pair: one 64-byte entry (one cache line) holding the Label bytes
// inline when they fit in 56 (a typical `instance="10.1.2.3:9100"` takes 28), else a
// pointer to them on the heap, plus a ~12-byte hash slot. Encoding a series reads its
// block of ids, then one line per pair: the entry is the bytes.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "common/labels.h"
#include "scraper/tsdb/index/flat_table.h"

namespace shardwise::storage {

class LabelPairTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // The table of this process, which the head and remote write share by default.
  static const std::shared_ptr<LabelPairTable>& Process();

  LabelPairTable() = default;
  ~LabelPairTable();
  LabelPairTable(const LabelPairTable&) = delete;
  LabelPairTable& operator=(const LabelPairTable&) = delete;

  // The id of (name, value), created when new, with one more reference.
  uint32_t Acquire(std::string_view name, std::string_view value);
  // Acquire for each label, under one lock: ids[i] is labels[i]'s (labels.size() ids).
  void AcquireAll(const Labels& labels, uint32_t* ids);
  // Drops one reference per id; a pair goes with its last.
  void Release(std::span<const uint32_t> ids);
  void Release(uint32_t id) { Release(std::span<const uint32_t>(&id, 1)); }
  // The id of (name, value), or kNone; no reference is taken, so the id is only good
  // while the caller otherwise knows the pair is held (the head: under its index lock).
  uint32_t Find(std::string_view name, std::string_view value) const;

  // For a holder of `id`, lock-free.
  std::string_view encoded(uint32_t id) const {
    const Entry& e = At(id);
    return {e.size <= kInline ? e.inline_bytes : e.heap_bytes, e.size};
  }
  std::string_view name(uint32_t id) const;
  std::string_view value(uint32_t id) const;
  uint32_t hash(uint32_t id) const { return PairHash(name(id), value(id)); }
  // Asks the CPU to fetch the id's entry (for most pairs, its bytes too).
  void PrefetchEntry(uint32_t id) const { __builtin_prefetch(&At(id)); }

  // Heap bytes of one pair: its bytes, entry and hash slot (at a typical load).
  size_t HeldBytes(uint32_t id) const;

  size_t size() const;  // distinct pairs held
  // Heap bytes: entries, the hash table and the pairs' bytes.
  size_t MemoryBytes() const;

  static uint32_t PairHash(std::string_view name, std::string_view value);

 private:
  static constexpr uint32_t kInline = 56;
  // Trivial, so a new chunk's pages stay untouched until ids reach them; chunks start on a
  // cache line, so an entry is one line.
  struct Entry {
    uint32_t refs;  // guarded by mu_
    uint32_t size;  // of the bytes; 0: a free id (a Label message is never empty)
    union {
      char inline_bytes[kInline];  // size <= kInline
      const char* heap_bytes;      // size > kInline
    };
  };
  static_assert(sizeof(Entry) == 64);
  // Chunk k holds kFirstChunk << k entries; 23 chunks cover every 32-bit id.
  static constexpr uint32_t kFirstChunkBits = 10;
  static constexpr size_t kChunks = 23;

  // Inline: the encoder calls it per label per sample.
  const Entry& At(uint32_t id) const {
    const uint64_t x = uint64_t{id} + (uint64_t{1} << kFirstChunkBits);
    const int k = std::bit_width(x) - 1 - static_cast<int>(kFirstChunkBits);
    return chunks_[k][x - (uint64_t{1} << (k + kFirstChunkBits))];
  }
  Entry& At(uint32_t id) { return const_cast<Entry&>(std::as_const(*this).At(id)); }
  uint32_t FindLocked(std::string_view name, std::string_view value, uint32_t hash) const;
  uint32_t AcquireLocked(std::string_view name, std::string_view value);

  mutable std::mutex mu_;
  std::array<std::unique_ptr<char[]>, kChunks> chunk_memory_;
  std::array<Entry*, kChunks> chunks_{};  // in chunk_memory_, aligned to 64
  uint32_t next_id_ = 0;                  // ids below were handed out at least once
  // Freed ids, a min-heap: the lowest is reused first, so ids stay dense and holders can
  // index arrays by them (LabelPairs' postings).
  std::vector<uint32_t> free_;
  using IdSlot = tsdb::IdSlot;
  tsdb::IdTable by_pair_;
  size_t heap_bytes_ = 0;  // of pairs too long to be inline, with allocator rounding
};

}  // namespace shardwise::storage
