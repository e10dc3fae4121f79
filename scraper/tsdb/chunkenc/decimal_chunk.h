// Decimal chunk: for series whose values are exact decimals (counters, gauges exposed with
// a few decimal places), values are stored as integers n with v == n / 10^e for one
// exponent e per chunk, and n is delta-encoded in variable-width buckets. XOR encoding
// cannot compress a value like 123.45 (its binary mantissa never ends), a decimal delta
// takes one or two bytes.
//
// Encode() only succeeds when every value round-trips bit for bit (so -0.0, NaNs, the
// stale marker and infinities force the XOR encoding); callers keep the smaller of both.
//
// Layout: u16 big-endian sample count, u8 exponent, then a bit stream:
//   sample 0: t zigzag varint, n zigzag varint
//   sample 1: t delta zigzag varint, n delta (buckets below)
//   sample i: t delta-of-delta (XOR-chunk buckets), n delta
//   n delta d: 0 -> '0'; 7 bits -> '10'; 10 -> '110'; 16 -> '1110'; 32 -> '11110';
//              64 -> '11111'
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "scraper/tsdb/chunkenc/bitstream.h"

namespace shardwise::tsdb::chunkenc {

struct TimedValue {
  int64_t t;
  double v;
};

inline constexpr int kMaxDecimalExponent = 9;

// nullopt when some value is not an exact decimal with at most kMaxDecimalExponent places.
std::optional<std::string> EncodeDecimal(std::span<const TimedValue> samples);

class DecimalIterator {
 public:
  explicit DecimalIterator(std::string_view chunk);
  bool Next();
  int64_t t() const { return t_; }
  double v() const;
  bool error() const { return error_; }

 private:
  BitReader r_;
  int total_ = 0;
  int read_ = 0;
  int exponent_ = 0;
  int64_t t_ = 0;
  int64_t delta_ = 0;
  int64_t n_ = 0;
  bool error_ = false;
};

}  // namespace shardwise::tsdb::chunkenc
