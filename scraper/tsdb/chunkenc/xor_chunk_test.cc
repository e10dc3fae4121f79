#include "scraper/tsdb/chunkenc/xor_chunk.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "scraper/storage/appender.h"

namespace shardwise::tsdb::chunkenc {
namespace {

struct Sample {
  int64_t t;
  double v;
};

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, 8);
  return b;
}

double FromBits(uint64_t b) {
  double d;
  std::memcpy(&d, &b, 8);
  return d;
}

std::string Encode(const std::vector<Sample>& in) {
  XorAppender app;
  for (const auto& s : in) app.Append(s.t, s.v);
  EXPECT_EQ(app.num_samples(), static_cast<int>(in.size()));
  return app.Finish();
}

void ExpectRoundTrip(const std::vector<Sample>& in) {
  std::string chunk = Encode(in);
  EXPECT_EQ(NumSamples(chunk), static_cast<int>(in.size()));
  XorIterator it(chunk);
  size_t i = 0;
  while (it.Next()) {
    ASSERT_LT(i, in.size());
    EXPECT_EQ(it.t(), in[i].t) << i;
    EXPECT_EQ(Bits(it.v()), Bits(in[i].v)) << i;
    ++i;
  }
  EXPECT_FALSE(it.error());
  EXPECT_EQ(i, in.size());
}

TEST(XorChunkTest, Empty) { ExpectRoundTrip({}); }

TEST(XorChunkTest, OneAndTwoSamples) {
  ExpectRoundTrip({{1000, 1.0}});
  ExpectRoundTrip({{1000, 1.0}, {2000, 1.0}});
  ExpectRoundTrip({{-5, -1.0}, {7, 3.25}});
}

// A target may expose any timestamps; differences beyond the int64 range wrap on both sides
// (found by fuzz/chunk_fuzz, reproducer fuzz/corpus/chunk/roundtrip_huge).
TEST(XorChunkTest, TimestampsAWholeRangeApartRoundTrip) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  ExpectRoundTrip({{kMin + 1, 1.0}, {kMax - 1, 2.0}, {kMax, 3.0}});
  ExpectRoundTrip({{kMin, 1.0}, {0, 2.0}, {kMax, 3.0}, {kMax, 4.0}});
}

TEST(XorChunkTest, RegularCounterIsCompact) {
  std::vector<Sample> in;
  double v = 0;
  for (int i = 0; i < kSamplesPerChunk; ++i) {
    in.push_back({1'700'000'000'000 + i * 15'000, v});
    v += 17;
  }
  ExpectRoundTrip(in);
  // A counter's changing mantissa costs a couple of bytes; regular timestamps cost a bit.
  EXPECT_LT(Encode(in).size(), static_cast<size_t>(kSamplesPerChunk) * 5 / 2);
  for (auto& s : in) s.v = 42;
  EXPECT_LT(Encode(in).size(), static_cast<size_t>(kSamplesPerChunk) * 2 / 8 + 20);
}

TEST(XorChunkTest, StaleMarkerAndOtherNaNsStayDistinct) {
  const double quiet = std::numeric_limits<double>::quiet_NaN();
  const double payload_nan = FromBits(0x7ff8000000000001ULL);
  std::vector<Sample> in = {
      {1, 1.0}, {2, storage::StaleNaN()}, {3, quiet}, {4, storage::StaleNaN()}, {5, payload_nan},
      {6, 2.0}, {7, storage::StaleNaN()}};
  std::string chunk = Encode(in);
  XorIterator it(chunk);
  std::vector<uint64_t> got;
  while (it.Next()) got.push_back(Bits(it.v()));
  ASSERT_EQ(got.size(), in.size());
  EXPECT_EQ(got[1], storage::kStaleNaNBits);
  EXPECT_TRUE(storage::IsStaleNaN(FromBits(got[3])));
  EXPECT_FALSE(storage::IsStaleNaN(FromBits(got[2])));
  EXPECT_EQ(got[2], Bits(quiet));
  EXPECT_EQ(got[4], 0x7ff8000000000001ULL);
  EXPECT_EQ(got[6], storage::kStaleNaNBits);
}

TEST(XorChunkTest, EdgeValuesAndTimestamps) {
  const auto lim = std::numeric_limits<double>();
  (void)lim;
  std::vector<Sample> in = {
      {std::numeric_limits<int64_t>::min() / 4, 0.0},
      {std::numeric_limits<int64_t>::min() / 4 + 1, -0.0},
      {0, std::numeric_limits<double>::infinity()},
      {1, -std::numeric_limits<double>::infinity()},
      {2, std::numeric_limits<double>::max()},
      {3, std::numeric_limits<double>::lowest()},
      {4, std::numeric_limits<double>::denorm_min()},
      {5, std::numeric_limits<double>::min()},
      {6, 1e-300},
      {8191, 1.0},  // dod at the 14-bit bucket edges
      {8191 * 2 + 8192, 1.0},
      {100'000'000, 2.0},  // 64-bit dod
      {100'000'001, FromBits(1)},
      {100'000'002, FromBits(~uint64_t{0})},  // every bit flips: 64 significant bits
      {std::numeric_limits<int64_t>::max() / 4, 0.5},
  };
  ExpectRoundTrip(in);
}

TEST(XorChunkTest, DeltaOfDeltaBucketBoundaries) {
  for (int64_t d : {-8193LL, -8192LL, 8191LL, 8192LL, -65537LL, -65536LL, 65535LL, 65536LL,
                    -524289LL, -524288LL, 524287LL, 524288LL}) {
    std::vector<Sample> in = {{0, 1}, {1000, 2}, {2000, 3}, {3000 + d, 4}, {4000 + 2 * d, 5}};
    ExpectRoundTrip(in);
  }
}

TEST(XorChunkTest, RandomisedRoundTrip) {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<Sample> in;
    int64_t t = static_cast<int64_t>(rng() % 1'000'000'000'000);
    int n = static_cast<int>(rng() % kSamplesPerChunk) + 1;
    double v = 0;
    for (int i = 0; i < n; ++i) {
      switch (rng() % 4) {
        case 0:
          t += 15'000;
          break;
        case 1:
          t += 15'000 + static_cast<int64_t>(rng() % 200) - 100;
          break;
        case 2:
          t += 1 + static_cast<int64_t>(rng() % 10'000'000);
          break;
        default:
          t += static_cast<int64_t>(rng() % (int64_t{1} << 40));
          break;
      }
      switch (rng() % 4) {
        case 0:
          break;
        case 1:
          v += 1;
          break;
        case 2:
          v = FromBits(rng());
          break;
        default:
          v = static_cast<double>(rng() % 1000) / 7;
          break;
      }
      in.push_back({t, v});
    }
    ExpectRoundTrip(in);
  }
}

TEST(XorChunkTest, TruncatedChunkEndsWithError) {
  std::vector<Sample> in;
  for (int i = 0; i < 50; ++i) in.push_back({i * 1000, i * 1.5});
  std::string chunk = Encode(in);
  XorIterator it(std::string_view(chunk).substr(0, chunk.size() / 2));
  int n = 0;
  while (it.Next()) ++n;
  EXPECT_TRUE(it.error());
  EXPECT_LT(n, 50);
}

}  // namespace
}  // namespace shardwise::tsdb::chunkenc
