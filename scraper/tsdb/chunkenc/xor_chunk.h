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

// Appends to a chunk it owns. Samples must come in increasing time order (the head
// checks); the appender does not.
class XorAppender {
 public:
  XorAppender() : data_(2, '\0') {}
  void Append(int64_t t, double v);
  int num_samples() const { return num_; }
  const std::string& bytes() const { return data_; }
  // Releases the encoded chunk; the appender is empty afterwards.
  std::string Finish();
  size_t MemoryBytes() const { return sizeof(*this) + data_.capacity(); }

 private:
  void WriteValue(BitWriter& w, uint64_t bits);
  std::string data_;
  int free_bits_ = 0;
  uint16_t num_ = 0;
  uint8_t leading_ = 0xFF;  // 0xFF: no window yet
  uint8_t trailing_ = 0;
  int64_t t_ = 0;
  int64_t delta_ = 0;
  uint64_t v_bits_ = 0;
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
  bool ReadVarintBits(uint64_t* v);
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
