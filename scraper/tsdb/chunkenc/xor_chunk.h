// Gorilla-style XOR chunk (Facebook's Gorilla paper, as Prometheus's chunkenc uses it):
// timestamps as delta-of-delta with variable-width buckets, values as the XOR with the
// previous value, storing only the meaningful bits. A regular scrape series costs about
// one to two bytes per sample. Values round-trip bit for bit, so the stale-marker NaN
// stays distinct from other NaNs.
//
// Layout: u16 big-endian sample count, then a bit stream:
//   sample 0: t as zigzag varint bytes, v as 64 raw bits
//   sample 1: t delta as zigzag varint bytes, v as XOR (below)
//   sample n: delta-of-delta d:  0 -> '0'; |d| fits 14 bits -> '10'+14;
//             17 bits -> '110'+17; 20 bits -> '1110'+20; else '1111'+64
//             value XOR x: 0 -> '0'; fits previous leading/trailing window ->
//             '10'+meaningful bits; else '11'+5 bits leading+6 bits length+bits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "scraper/tsdb/chunkenc/bitstream.h"

namespace shardwise::tsdb::chunkenc {

inline constexpr int kSamplesPerChunk = 120;

// The bytes of an open chunk: 16 bytes of bookkeeping where std::string takes 32, no
// allocation while empty, and growth by about a quarter in malloc-sized steps instead of
// doubling. A head keeps one per series, so both matter.
class ChunkBuffer {
 public:
  ChunkBuffer() = default;
  ~ChunkBuffer() { delete[] data_; }
  ChunkBuffer(const ChunkBuffer& o);
  ChunkBuffer& operator=(const ChunkBuffer& o);
  ChunkBuffer(ChunkBuffer&& o) noexcept : data_(o.data_), size_(o.size_), cap_(o.cap_) {
    o.data_ = nullptr;
    o.size_ = o.cap_ = 0;
  }
  ChunkBuffer& operator=(ChunkBuffer&& o) noexcept;

  void push_back(char c) {
    if (size_ == cap_) Grow();
    data_[size_++] = c;
  }
  char& back() { return data_[size_ - 1]; }
  char& operator[](size_t i) { return data_[i]; }
  std::string_view view() const { return {data_, size_}; }
  size_t size() const { return size_; }
  size_t capacity() const { return cap_; }

 private:
  void Grow();
  char* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t cap_ = 0;
};

// Appends to a chunk it owns. Samples must come in increasing time order (the head
// checks); the appender does not.
class XorAppender {
 public:
  void Append(int64_t t, double v);
  int num_samples() const { return num_; }
  // The encoded chunk so far; valid until the next Append.
  std::string_view bytes() const { return num_ == 0 ? std::string_view("\0\0", 2) : data_.view(); }
  // Releases the encoded chunk; the appender is empty afterwards.
  std::string Finish();
  size_t HeapBytes() const { return data_.capacity(); }
  size_t MemoryBytes() const { return sizeof(*this) + HeapBytes(); }

 private:
  void WriteValue(BasicBitWriter<ChunkBuffer>& w, uint64_t bits);
  ChunkBuffer data_;
  int64_t t_ = 0;
  int64_t delta_ = 0;
  uint64_t v_bits_ = 0;
  uint16_t num_ = 0;
  uint8_t free_bits_ = 0;
  uint8_t leading_ = 0xFF;  // 0xFF: no window yet
  uint8_t trailing_ = 0;
};

// Iterates a chunk's samples in order. A malformed chunk ends early with error() set.
class XorIterator {
 public:
  explicit XorIterator(std::string_view chunk);
  bool Next();
  int64_t t() const { return t_; }
  double v() const;
  bool error() const { return error_; }

 private:
  bool ReadValue();
  BitReader r_;
  int total_ = 0;
  int read_ = 0;
  int64_t t_ = 0;
  int64_t delta_ = 0;
  uint64_t v_bits_ = 0;
  uint8_t leading_ = 0;
  uint8_t trailing_ = 0;
  bool error_ = false;
};

int NumSamples(std::string_view chunk);

}  // namespace shardwise::tsdb::chunkenc
