// Small, stable hash primitives used to place targets on shards.
//
// JumpHash is Lamping & Veach's jump consistent hash: it maps a key to one of `buckets`
// buckets so that growing from n to n+1 buckets moves exactly the keys that land in the new
// bucket (1/(n+1) of them in expectation) and shrinking removes the highest bucket only.
// ProbeKey derives the k-th independent key of a target for its fallback probes.
#pragma once

#include <cstdint>

namespace shardwise::assign {

inline uint32_t JumpHash(uint64_t key, uint32_t buckets) {
  int64_t bucket = -1;
  int64_t next = 0;
  while (next < static_cast<int64_t>(buckets)) {
    bucket = next;
    key = key * 2862933555777941757ULL + 1;
    next = static_cast<int64_t>(
        static_cast<double>(bucket + 1) *
        (static_cast<double>(1LL << 31) / static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<uint32_t>(bucket);
}

// SplitMix64 finaliser: a bijective 64-bit mixer with good avalanche.
inline uint64_t Mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Probe 0 is the target id itself, so a target's first choice is JumpHash(id, n).
inline uint64_t ProbeKey(uint64_t id, uint32_t k) { return k == 0 ? id : Mix64(id ^ Mix64(k)); }

}  // namespace shardwise::assign
