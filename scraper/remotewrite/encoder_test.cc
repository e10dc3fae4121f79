#include "scraper/remotewrite/encoder.h"

#include <gtest/gtest.h>
#include <snappy.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "common/prompb/remote.pb.h"
#include "scraper/storage/appender.h"

namespace shardwise::remotewrite {
namespace {

struct TestSeries {
  Labels labels;
  std::vector<Sample> samples;
};

std::string Reference(const std::vector<TestSeries>& series) {
  prometheus::WriteRequest req;
  for (const auto& s : series) {
    auto* ts = req.add_timeseries();
    for (const auto& l : s.labels) {
      auto* pl = ts->add_labels();
      pl->set_name(l.name);
      pl->set_value(l.value);
    }
    for (const auto& smp : s.samples) {
      auto* ps = ts->add_samples();
      ps->set_value(smp.value);
      ps->set_timestamp(smp.t_ms);
    }
  }
  std::string out;
  EXPECT_TRUE(req.SerializeToString(&out));
  return out;
}

std::string Encode(const std::vector<TestSeries>& series, WriteRequestEncoder& enc) {
  enc.Reset();
  for (const auto& s : series) {
    std::string labels;
    EncodeLabels(s.labels, &labels);
    enc.AddSeries(labels, s.samples);
  }
  return std::string(enc.bytes());
}

class RandomInput {
 public:
  explicit RandomInput(uint32_t seed) : rng_(seed) {}

  std::string String() {
    static const std::vector<std::string> kPieces = {
        "",  "a",   "job",   "__name__", "ünïcödé", "日本語",
        "😀", "x y", "\"q\"", "\\",       "\n",      std::string(200, 'k')};
    std::string s;
    int n = Int(0, 3);
    for (int i = 0; i < n; ++i) s += kPieces[Int(0, kPieces.size() - 1)];
    return s;
  }

  double Value() {
    switch (Int(0, 9)) {
      case 0:
        return 0.0;
      case 1:
        return -0.0;
      case 2:
        return std::numeric_limits<double>::quiet_NaN();
      case 3:
        return storage::StaleNaN();
      case 4:
        return std::numeric_limits<double>::infinity();
      case 5:
        return -std::numeric_limits<double>::infinity();
      case 6:
        return static_cast<double>(Int(-1000, 1000));
      default:
        return std::uniform_real_distribution<double>(-1e300, 1e300)(rng_);
    }
  }

  int64_t Timestamp() {
    switch (Int(0, 5)) {
      case 0:
        return 0;
      case 1:
        return -Int(1, 1'000'000'000);
      case 2:
        return std::numeric_limits<int64_t>::min();
      case 3:
        return std::numeric_limits<int64_t>::max();
      default:
        return 1'700'000'000'000 + Int(0, 1'000'000);
    }
  }

  std::vector<TestSeries> Batch() {
    std::vector<TestSeries> batch(Int(0, 5));
    for (auto& s : batch) {
      std::vector<Label> labels;
      int n = Int(0, 6);
      for (int i = 0; i < n; ++i) labels.push_back({"l" + std::to_string(i) + String(), String()});
      if (Int(0, 3) == 0) labels.push_back({"", String()});  // the wire allows an empty name
      s.labels = Labels::FromUnsorted(std::move(labels));
      s.samples.resize(Int(0, 6));
      for (auto& smp : s.samples) smp = {Timestamp(), Value()};
    }
    return batch;
  }

  int64_t Int(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }

 private:
  std::mt19937_64 rng_;
};

TEST(EncoderTest, EmptyRequestIsEmpty) {
  WriteRequestEncoder enc;
  EXPECT_EQ(Encode({}, enc), Reference({}));
  EXPECT_TRUE(enc.bytes().empty());
}

TEST(EncoderTest, KnownSeriesMatchesLibprotobuf) {
  std::vector<TestSeries> in = {
      {Labels{{"__name__", "up"}, {"job", "node"}}, {{1000, 1.0}, {2000, 0.0}, {0, 5.5}}},
      {Labels{{"__name__", "stale"}}, {{-5, storage::StaleNaN()}, {7, -0.0}}},
      {Labels{}, {}},
  };
  WriteRequestEncoder enc;
  EXPECT_EQ(Encode(in, enc), Reference(in));
}

TEST(EncoderTest, RandomInputsAreByteIdenticalToLibprotobuf) {
  RandomInput random(20261121);
  WriteRequestEncoder enc;  // reused on purpose: Reset must leave no residue
  for (int i = 0; i < 5000; ++i) {
    auto batch = random.Batch();
    ASSERT_EQ(Encode(batch, enc), Reference(batch)) << "iteration " << i;
  }
}

TEST(EncoderTest, StaleNaNSurvivesARoundTripBitForBit) {
  std::vector<TestSeries> in = {{Labels{{"__name__", "m"}}, {{1, storage::StaleNaN()}}}};
  WriteRequestEncoder enc;
  prometheus::WriteRequest decoded;
  ASSERT_TRUE(decoded.ParseFromString(Encode(in, enc)));
  ASSERT_EQ(decoded.timeseries_size(), 1);
  EXPECT_TRUE(storage::IsStaleNaN(decoded.timeseries(0).samples(0).value()));
}

TEST(EncoderTest, SnappyRoundTrips) {
  RandomInput random(7);
  WriteRequestEncoder enc;
  std::string compressed, plain;
  for (int i = 0; i < 200; ++i) {
    std::string encoded = Encode(random.Batch(), enc);
    SnappyCompress(encoded, &compressed);
    ASSERT_TRUE(snappy::Uncompress(compressed.data(), compressed.size(), &plain));
    EXPECT_EQ(plain, encoded);
  }
}

TEST(EncoderTest, SnappyBufferRoundTripsRequestsOfEverySizeInTurn) {
  // Random batches grow and shrink the input; the reused buffer must give exactly what
  // SnappyCompress gives each time.
  RandomInput random(11);
  WriteRequestEncoder enc;
  SnappyBuffer buffer;
  std::string expected, plain;
  for (int i = 0; i < 200; ++i) {
    std::string encoded = Encode(random.Batch(), enc);
    std::string_view compressed = buffer.Compress(encoded);
    SnappyCompress(encoded, &expected);
    EXPECT_EQ(compressed, expected);
    ASSERT_TRUE(snappy::Uncompress(compressed.data(), compressed.size(), &plain));
    EXPECT_EQ(plain, encoded);
  }
  EXPECT_EQ(buffer.Compress(""), (SnappyCompress("", &expected), expected));
}

}  // namespace
}  // namespace shardwise::remotewrite
