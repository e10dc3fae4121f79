#include "scraper/tsdb/record.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <utility>

#include "scraper/storage/appender.h"

namespace shardwise::tsdb {
namespace {

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, 8);
  return b;
}

TEST(RecordTest, SeriesRoundTrip) {
  std::vector<SeriesRecord> in = {
      {1, Labels{{"__name__", "up"}, {"job", "node"}}},
      {7, Labels{{"__name__", "x"}, {"a", std::string(300, 'v')}, {"b", "ü"}}},
      {uint64_t{1} << 50, Labels{}},
  };
  std::string buf;
  EncodeSeries(in, &buf);
  EXPECT_EQ(PeekRecordType(buf), RecordType::kSeries);
  std::vector<SeriesRecord> out;
  ASSERT_TRUE(DecodeSeries(buf, &out).ok());
  EXPECT_EQ(out, in);
}

TEST(RecordTest, SeriesRemovedRoundTrip) {
  std::vector<uint64_t> in = {1, 2, 9, uint64_t{1} << 50};
  std::string buf;
  EncodeSeriesRemoved(in, &buf);
  EXPECT_EQ(PeekRecordType(buf), RecordType::kSeriesRemoved);
  std::vector<uint64_t> out;
  ASSERT_TRUE(DecodeSeriesRemoved(buf, &out).ok());
  EXPECT_EQ(out, in);
  out.clear();
  EXPECT_EQ(DecodeSeriesRemoved(buf.substr(0, buf.size() - 1), &out).code(),
            Status::Code::kCorruption);
}

TEST(RecordTest, SamplesRoundTripBitExact) {
  std::vector<SampleRecord> in = {
      {10, 1000, 1.5},
      {3, 999, -0.0},  // refs and times may go backwards within a record
      {11, 1000, storage::StaleNaN()},
      {12, std::numeric_limits<int64_t>::min() / 2, std::numeric_limits<double>::infinity()},
      {13, 1000, std::numeric_limits<double>::quiet_NaN()},
      {14, 1000, std::numeric_limits<double>::denorm_min()},
  };
  std::string buf;
  EncodeSamples(in, &buf);
  EXPECT_EQ(PeekRecordType(buf), RecordType::kSamples);
  std::vector<SampleRecord> out;
  ASSERT_TRUE(DecodeSamples(buf, &out).ok());
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].ref, in[i].ref);
    EXPECT_EQ(out[i].t, in[i].t);
    EXPECT_EQ(Bits(out[i].v), Bits(in[i].v));
  }
}

// Timestamps a whole int64 range apart, in either order: the deltas wrap instead of
// overflowing (UBSan builds and the wal_record fuzzer would abort on overflow).
TEST(RecordTest, SamplesWithExtremeTimestampsRoundTrip) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  for (const auto& [first, second] : {std::pair{kMin, kMax}, std::pair{kMax, kMin}}) {
    std::vector<SampleRecord> in = {{1, first, 1.0}, {2, second, 2.0}};
    std::string buf;
    EncodeSamples(in, &buf);
    std::vector<SampleRecord> out;
    ASSERT_TRUE(DecodeSamples(buf, &out).ok());
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].t, first);
    EXPECT_EQ(out[1].t, second);
  }
}

TEST(RecordTest, TypicalScrapeIsCompact) {
  std::vector<SampleRecord> in;
  for (uint64_t i = 0; i < 1000; ++i) in.push_back({5000 + i, 1'700'000'000'000, double(i)});
  std::string buf;
  EncodeSamples(in, &buf);
  EXPECT_LT(buf.size(), 1000u * 12);
}

TEST(RecordTest, TruncatedRecordsAreCorruption) {
  std::string series, samples;
  EncodeSeries(std::vector<SeriesRecord>{{1, Labels{{"a", "b"}}}}, &series);
  EncodeSamples(std::vector<SampleRecord>{{1, 2, 3}, {2, 3, 4}}, &samples);
  for (size_t n = 0; n < series.size(); ++n) {
    std::vector<SeriesRecord> out;
    EXPECT_FALSE(DecodeSeries(series.substr(0, n), &out).ok()) << n;
  }
  for (size_t n = 0; n < samples.size(); ++n) {
    std::vector<SampleRecord> out;
    EXPECT_FALSE(DecodeSamples(samples.substr(0, n), &out).ok()) << n;
  }
  std::vector<SampleRecord> out;
  EXPECT_FALSE(DecodeSamples(samples + "x", &out).ok());
  EXPECT_EQ(PeekRecordType("\x09"), RecordType::kInvalid);
}

}  // namespace
}  // namespace shardwise::tsdb
