// Bit-granular writer and reader used by the XOR chunk encoding. Bits are packed most
// significant first into bytes, so a stream can be appended to in place.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace shardwise::tsdb::chunkenc {

// Whether `v` fits a `bits`-wide two's-complement field (the delta-of-delta buckets).
inline bool FitsSigned(int64_t v, int bits) {
  const int64_t lim = int64_t{1} << (bits - 1);
  return v >= -lim && v < lim;
}

// Buffer: a byte string with push_back(char) and back() (std::string, ChunkBuffer).
template <typename Buffer>
class BasicBitWriter {
 public:
  explicit BasicBitWriter(Buffer* out) : out_(out) {}
  // Continues a stream whose last byte has `free_bits` unused low bits.
  BasicBitWriter(Buffer* out, int free_bits) : out_(out), free_(free_bits) {}

  void WriteBit(bool bit) {
    if (free_ == 0) {
      out_->push_back(0);
      free_ = 8;
    }
    --free_;
    if (bit) out_->back() = static_cast<char>(out_->back() | (1 << free_));
  }
  // Writes the low `n` bits of `v` (n <= 64), most significant first.
  void WriteBits(uint64_t v, int n) {
    while (n > 0) {
      if (free_ == 0) {
        out_->push_back(0);
        free_ = 8;
      }
      int take = n < free_ ? n : free_;
      uint64_t chunk = (v >> (n - take)) & ((uint64_t{1} << take) - 1);
      free_ -= take;
      out_->back() = static_cast<char>(static_cast<uint8_t>(out_->back()) | (chunk << free_));
      n -= take;
    }
  }
  // An unsigned LEB128 varint, byte by byte at the current bit position.
  void WriteVarint(uint64_t v) {
    while (v >= 0x80) {
      WriteBits((v & 0x7F) | 0x80, 8);
      v >>= 7;
    }
    WriteBits(v, 8);
  }
  int free_bits() const { return free_; }

 private:
  Buffer* out_;
  int free_ = 0;
};
using BitWriter = BasicBitWriter<std::string>;

class BitReader {
 public:
  explicit BitReader(std::string_view in) : in_(in) {}

  bool ReadBit(bool* bit) {
    if (pos_ >= in_.size() * 8) return false;
    *bit = (static_cast<uint8_t>(in_[pos_ / 8]) >> (7 - pos_ % 8)) & 1;
    ++pos_;
    return true;
  }
  bool ReadBits(int n, uint64_t* v) {
    if (pos_ + static_cast<size_t>(n) > in_.size() * 8) return false;
    uint64_t out = 0;
    while (n > 0) {
      size_t byte = pos_ / 8;
      int offset = static_cast<int>(pos_ % 8);
      int avail = 8 - offset;
      int take = n < avail ? n : avail;
      uint64_t bits = (static_cast<uint8_t>(in_[byte]) >> (avail - take)) & ((1u << take) - 1);
      out = (out << take) | bits;
      pos_ += static_cast<size_t>(take);
      n -= take;
    }
    *v = out;
    return true;
  }
  // The counterpart of BasicBitWriter::WriteVarint; false when the stream ends first or the
  // varint runs past 10 bytes.
  bool ReadVarint(uint64_t* v) {
    uint64_t out = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      uint64_t byte;
      if (!ReadBits(8, &byte)) return false;
      out |= (byte & 0x7F) << shift;
      if (byte < 0x80) {
        *v = out;
        return true;
      }
    }
    return false;
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace shardwise::tsdb::chunkenc
