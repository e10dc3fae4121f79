#include "scraper/tsdb/chunkenc/chunk.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <vector>

#include "scraper/storage/appender.h"

namespace shardwise::tsdb::chunkenc {
namespace {

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, 8);
  return b;
}

std::string XorOf(const std::vector<TimedValue>& in) {
  XorAppender app;
  for (const auto& s : in) app.Append(s.t, s.v);
  return app.Finish();
}

// `want` unset: either encoding may win, only the round trip matters.
void ExpectSealedRoundTrip(const std::vector<TimedValue>& in, std::optional<Encoding> want) {
  std::string sealed = Seal(XorOf(in));
  if (want) {
    EXPECT_EQ(SealedEncoding(sealed), *want) << in.size() << " samples, second value " << in[1].v;
  }
  Iterator it(sealed);
  size_t i = 0;
  while (it.Next()) {
    ASSERT_LT(i, in.size());
    ASSERT_EQ(it.t(), in[i].t) << i;
    ASSERT_EQ(Bits(it.v()), Bits(in[i].v)) << i << ": " << in[i].v << " vs " << it.v();
    ++i;
  }
  EXPECT_FALSE(it.error());
  EXPECT_EQ(i, in.size());
}

std::vector<TimedValue> Series(int n, const std::function<double(int)>& v) {
  std::vector<TimedValue> out;
  for (int k = 0; k < n; ++k) out.push_back({1'700'000'000'000 + k * 15'000, v(k)});
  return out;
}

TEST(SealedChunkTest, DecimalsUseDecimalEncodingAndRoundTrip) {
  std::mt19937_64 rng(9);
  double walk = 20;
  auto gauge = Series(120, [&](int) {
    walk = std::round((walk + static_cast<double>(rng() % 201) / 100 - 1) * 100) / 100;
    return walk;
  });
  ExpectSealedRoundTrip(gauge, Encoding::kDecimal);
  EXPECT_LT(Seal(XorOf(gauge)).size(), XorOf(gauge).size() / 3);
  double c = 0;
  ExpectSealedRoundTrip(Series(120, [&](int k) { return c += k % 5; }), Encoding::kDecimal);
  // static_cast<double>(-k), not -k/1000.0 as a double: -0.0 is not a decimal.
  ExpectSealedRoundTrip(Series(120, [](int k) { return static_cast<double>(-k) / 1000; }),
                        Encoding::kDecimal);
  ExpectSealedRoundTrip(Series(120, [](int k) { return 1e15 + k; }), std::nullopt);
  ExpectSealedRoundTrip(Series(5, [](int k) { return k % 2 ? -123456.789 : 98765.4321; }),
                        Encoding::kDecimal);
}

TEST(SealedChunkTest, NonDecimalValuesStayXor) {
  ExpectSealedRoundTrip(Series(50, [](int k) { return k == 7 ? storage::StaleNaN() : k; }),
                        Encoding::kXor);
  ExpectSealedRoundTrip(Series(50, [](int k) { return k == 3 ? -0.0 : k; }), Encoding::kXor);
  ExpectSealedRoundTrip(
      Series(50, [](int k) { return k == 3 ? std::numeric_limits<double>::infinity() : k; }),
      Encoding::kXor);
  ExpectSealedRoundTrip(Series(50, [](int k) { return std::sqrt(2.0) * k; }), Encoding::kXor);
  ExpectSealedRoundTrip(Series(50, [](int k) { return 1e300 * k; }), Encoding::kXor);
  // Constant series are already ~2 bits per sample in XOR; either choice must round-trip.
  std::string sealed = Seal(XorOf(Series(120, [](int) { return 1; })));
  Iterator it(sealed);
  int n = 0;
  while (it.Next()) ++n;
  EXPECT_EQ(n, 120);
}

TEST(SealedChunkTest, DecimalHandlesIrregularTimestampsAndExtremeDeltas) {
  std::vector<TimedValue> in = {{-5, 0},
                                {1, 1e9},
                                {2, -1e9},
                                {100'000'000'000, 4.5e12},
                                {100'000'000'001, -4.5e12},
                                {100'000'000'002, 0.5},
                                {100'000'000'003, 0.25}};
  auto encoded = EncodeDecimal(in);
  ASSERT_TRUE(encoded.has_value());
  std::string dec = *encoded;
  DecimalIterator it(dec);
  size_t i = 0;
  while (it.Next()) {
    ASSERT_EQ(it.t(), in[i].t);
    ASSERT_EQ(Bits(it.v()), Bits(in[i].v));
    ++i;
  }
  EXPECT_FALSE(it.error());
  EXPECT_EQ(i, in.size());
  EXPECT_FALSE(EncodeDecimal(std::vector<TimedValue>{{0, 1e-10}}).has_value());
  EXPECT_FALSE(EncodeDecimal(std::vector<TimedValue>{}).has_value());
}

// Found by fuzz/chunk_fuzz: timestamps more than INT64_MAX apart overflowed the delta
// arithmetic (undefined behaviour; UBSan builds abort). The deltas now wrap on both sides.
TEST(SealedChunkTest, DecimalTimestampsSpanningTheWholeRangeRoundTrip) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  std::vector<TimedValue> in = {{kMin, 1}, {-1, 2}, {kMax - 1, 3}, {kMax, 4}};
  auto encoded = EncodeDecimal(in);
  ASSERT_TRUE(encoded.has_value());
  DecimalIterator it(*encoded);
  for (const auto& want : in) {
    ASSERT_TRUE(it.Next());
    EXPECT_EQ(it.t(), want.t);
    EXPECT_EQ(it.v(), want.v);
  }
  EXPECT_FALSE(it.Next());
  EXPECT_FALSE(it.error());
}

TEST(SealedChunkTest, RandomDecimalsRoundTrip) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 100; ++trial) {
    int places = static_cast<int>(rng() % 5);
    double scale = std::pow(10.0, places);
    std::vector<TimedValue> in;
    int64_t t = 0;
    for (int k = 0; k < 120; ++k) {
      t += 1 + static_cast<int64_t>(rng() % 30'000);
      in.push_back(
          {t, static_cast<double>(static_cast<int64_t>(rng() % 2'000'000) - 1'000'000) / scale});
    }
    auto encoded = EncodeDecimal(in);
    ASSERT_TRUE(encoded.has_value());
    DecimalIterator it(*encoded);
    for (const auto& s : in) {
      ASSERT_TRUE(it.Next());
      ASSERT_EQ(it.t(), s.t);
      ASSERT_EQ(Bits(it.v()), Bits(s.v));
    }
    EXPECT_FALSE(it.Next());
  }
}

TEST(SealedChunkTest, TruncatedOrUnknownChunksEndWithError) {
  auto in = Series(100, [](int k) { return k * 0.5; });
  std::string sealed = Seal(XorOf(in));
  ASSERT_EQ(SealedEncoding(sealed), Encoding::kDecimal);
  Iterator it(std::string_view(sealed).substr(0, sealed.size() / 2));
  int n = 0;
  while (it.Next()) ++n;
  EXPECT_TRUE(it.error());
  EXPECT_LT(n, 100);
  Iterator bad(std::string("\x07xyz", 4));
  EXPECT_FALSE(bad.Next());
  EXPECT_TRUE(bad.error());
}

}  // namespace
}  // namespace shardwise::tsdb::chunkenc
