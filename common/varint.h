// LEB128 unsigned varints written into a caller-sized buffer: the wire format of protobuf
// and of Prometheus's TSDB files. VarintSize tells how many bytes PutVarint will write, so
// a caller can size its buffer exactly once and then write without bounds checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace shardwise {

constexpr size_t kMaxVarintBytes = 10;

inline size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Writes `v` at `p` (VarintSize(v) bytes) and returns the byte after it. Byte is char or
// unsigned char.
template <typename Byte>
Byte* PutVarint(Byte* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<Byte>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<Byte>(v);
  return p;
}

// Reads the varint PutVarint wrote at `p` into *v and returns the byte after it. For bytes
// this process wrote itself: nothing bounds the read.
template <typename Byte>
const Byte* GetVarint(const Byte* p, uint64_t* v) {
  uint64_t out = 0;
  for (int shift = 0;; shift += 7) {
    const auto b = static_cast<unsigned char>(*p++);
    out |= uint64_t{b & 0x7fu} << shift;
    if (b < 0x80) break;
  }
  *v = out;
  return p;
}

inline void AppendVarint(std::string* out, uint64_t v) {
  char buf[kMaxVarintBytes];
  out->append(buf, PutVarint(buf, v));
}

}  // namespace shardwise
