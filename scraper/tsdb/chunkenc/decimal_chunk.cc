#include "scraper/tsdb/chunkenc/decimal_chunk.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "scraper/tsdb/encoding.h"

namespace shardwise::tsdb::chunkenc {
namespace {

constexpr double kPowers[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
// Integers beyond 2^53 are not all representable; stay well inside.
constexpr double kMaxMagnitude = 9007199254740992.0 / 2;

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// n such that n / 10^e reproduces v exactly, if one exists.
std::optional<int64_t> ToDecimal(double v, int e) {
  double scaled = v * kPowers[e];
  if (!std::isfinite(scaled) || std::fabs(scaled) > kMaxMagnitude) return std::nullopt;
  auto n = static_cast<int64_t>(std::nearbyint(scaled));
  // Check the decoder's exact computation; this also rejects -0.0.
  if (!SameBits(static_cast<double>(n) / kPowers[e], v)) return std::nullopt;
  return n;
}

struct Bucket {
  uint64_t prefix;
  int prefix_bits;
  int width;
};
constexpr Bucket kTimeBuckets[] = {{0b10, 2, 14}, {0b110, 3, 17}, {0b1110, 4, 20}, {0b1111, 4, 64}};
constexpr Bucket kValueBuckets[] = {
    {0b10, 2, 7}, {0b110, 3, 10}, {0b1110, 4, 16}, {0b11110, 5, 32}, {0b11111, 5, 64}};

template <size_t N>
void WriteBucketed(BitWriter& w, int64_t d, const Bucket (&buckets)[N]) {
  if (d == 0) {
    w.WriteBit(false);
    return;
  }
  for (const auto& b : buckets) {
    if (b.width == 64 || FitsSigned(d, b.width)) {
      w.WriteBits(b.prefix, b.prefix_bits);
      w.WriteBits(static_cast<uint64_t>(d), b.width);
      return;
    }
  }
}

template <size_t N>
bool ReadBucketed(BitReader& r, int64_t* d, const Bucket (&buckets)[N]) {
  // k ones then a zero select bucket k-1 (no ones: the value is 0); N ones select the
  // last bucket, with no zero after them.
  size_t ones = 0;
  while (ones < N) {
    bool bit;
    if (!r.ReadBit(&bit)) return false;
    if (!bit) break;
    ++ones;
  }
  if (ones == 0) {
    *d = 0;
    return true;
  }
  const Bucket& b = buckets[ones - 1];
  uint64_t raw;
  if (!r.ReadBits(b.width, &raw)) return false;
  if (b.width < 64 && ((raw >> (b.width - 1)) & 1)) raw |= ~uint64_t{0} << b.width;
  *d = static_cast<int64_t>(raw);
  return true;
}

}  // namespace

std::optional<std::string> EncodeDecimal(std::span<const TimedValue> samples) {
  if (samples.empty() || samples.size() > 0xFFFF) return std::nullopt;
  int exponent = 0;
  std::vector<int64_t> ints(samples.size());
  for (; exponent <= kMaxDecimalExponent; ++exponent) {
    bool ok = true;
    for (size_t i = 0; i < samples.size() && ok; ++i) {
      auto n = ToDecimal(samples[i].v, exponent);
      ok = n.has_value();
      if (ok) ints[i] = *n;
    }
    if (ok) break;
  }
  if (exponent > kMaxDecimalExponent) return std::nullopt;

  std::string out;
  out.push_back(static_cast<char>(samples.size() >> 8));
  out.push_back(static_cast<char>(samples.size() & 0xFF));
  out.push_back(static_cast<char>(exponent));
  BitWriter w(&out);
  int64_t prev_t = 0, prev_delta = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    int64_t t = samples[i].t;
    if (i == 0) {
      w.WriteVarint(ZigZag(t));
      w.WriteVarint(ZigZag(ints[0]));
      prev_t = t;
      continue;
    }
    int64_t delta = WrappingSub(t, prev_t);
    if (i == 1) {
      w.WriteVarint(ZigZag(delta));
    } else {
      WriteBucketed(w, WrappingSub(delta, prev_delta), kTimeBuckets);
    }
    // Overflowing differences wrap identically on both sides.
    WriteBucketed(
        w,
        static_cast<int64_t>(static_cast<uint64_t>(ints[i]) - static_cast<uint64_t>(ints[i - 1])),
        kValueBuckets);
    prev_delta = delta;
    prev_t = t;
  }
  out.shrink_to_fit();
  return out;
}

DecimalIterator::DecimalIterator(std::string_view chunk)
    : r_(chunk.size() >= 3 ? chunk.substr(3) : std::string_view()),
      total_(chunk.size() >= 3
                 ? (static_cast<uint8_t>(chunk[0]) << 8 | static_cast<uint8_t>(chunk[1]))
                 : 0),
      exponent_(chunk.size() >= 3 ? static_cast<uint8_t>(chunk[2]) : 0) {
  if (exponent_ > kMaxDecimalExponent) {
    error_ = true;
    total_ = 0;
  }
}

double DecimalIterator::v() const { return static_cast<double>(n_) / kPowers[exponent_]; }

bool DecimalIterator::Next() {
  if (error_ || read_ >= total_) return false;
  bool ok = true;
  if (read_ == 0) {
    uint64_t t = 0, n = 0;
    ok = r_.ReadVarint(&t) && r_.ReadVarint(&n);
    t_ = UnZigZag(t);
    n_ = UnZigZag(n);
  } else {
    if (read_ == 1) {
      uint64_t d = 0;
      ok = r_.ReadVarint(&d);
      delta_ = UnZigZag(d);
    } else {
      int64_t dod = 0;
      ok = ReadBucketed(r_, &dod, kTimeBuckets);
      delta_ = WrappingAdd(delta_, dod);
    }
    t_ = WrappingAdd(t_, delta_);
    int64_t dn = 0;
    ok = ok && ReadBucketed(r_, &dn, kValueBuckets);
    n_ = static_cast<int64_t>(static_cast<uint64_t>(n_) + static_cast<uint64_t>(dn));
  }
  if (!ok) {
    error_ = true;
    return false;
  }
  ++read_;
  return true;
}

}  // namespace shardwise::tsdb::chunkenc
