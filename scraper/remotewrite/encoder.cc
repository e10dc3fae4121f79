#include "scraper/remotewrite/encoder.h"

#include <snappy.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "common/varint.h"
#include "scraper/storage/label_wire.h"

namespace shardwise::remotewrite {
namespace {

static_assert(std::endian::native == std::endian::little, "fixed64 is copied raw");

// Wire types and field tags of the messages we write.
constexpr uint8_t kTagTimeSeries = (1 << 3) | 2;   // WriteRequest.timeseries
constexpr uint8_t kTagSample = (2 << 3) | 2;       // TimeSeries.samples
constexpr uint8_t kTagSampleValue = (1 << 3) | 1;  // Sample.value (fixed64)
constexpr uint8_t kTagTimestamp = (2 << 3) | 0;    // Sample.timestamp (varint)

uint64_t DoubleBits(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits;
}

// Size of a Sample message body (without its own tag and length).
size_t SampleBodySize(const Sample& s) {
  size_t n = 0;
  if (DoubleBits(s.value) != 0) n += 1 + 8;
  if (s.t_ms != 0) n += 1 + VarintSize(static_cast<uint64_t>(s.t_ms));
  return n;
}

}  // namespace

void EncodeLabels(const Labels& labels, std::string* out) {
  for (const Label& l : labels) {
    const size_t old = out->size();
    out->resize(old + storage::LabelMessageSize(l.name, l.value));
    storage::PutLabelMessage(out->data() + old, l.name, l.value);
  }
}

char* WriteRequestEncoder::BeginSeries(size_t labels_size, std::span<const Sample> samples) {
  size_t body = labels_size;
  for (const Sample& s : samples) body += 2 + SampleBodySize(s);
  size_t old = buf_.size();
  buf_.resize(old + 1 + VarintSize(body) + body);
  char* p = buf_.data() + old;
  *p++ = static_cast<char>(kTagTimeSeries);
  return PutVarint(p, body);
}

void WriteRequestEncoder::PutSamples(char* p, std::span<const Sample> samples) {
  for (const Sample& s : samples) {
    uint64_t bits = DoubleBits(s.value);
    *p++ = static_cast<char>(kTagSample);
    // A sample body is at most 9 + 11 = 20 bytes: its length is one varint byte.
    char* len = p++;
    char* start = p;
    if (bits != 0) {
      *p++ = static_cast<char>(kTagSampleValue);
      std::memcpy(p, &bits, 8);  // fixed64 is little-endian, as is the host (asserted)
      p += 8;
    }
    if (s.t_ms != 0) {
      *p++ = static_cast<char>(kTagTimestamp);
      p = PutVarint(p, static_cast<uint64_t>(s.t_ms));
    }
    *len = static_cast<char>(p - start);
  }
}

void WriteRequestEncoder::AddSeries(std::string_view encoded_labels,
                                    std::span<const Sample> samples) {
  char* p = BeginSeries(encoded_labels.size(), samples);
  std::memcpy(p, encoded_labels.data(), encoded_labels.size());
  PutSamples(p + encoded_labels.size(), samples);
}

void WriteRequestEncoder::AddSeries(const storage::LabelPairTable& pairs,
                                    std::span<const uint32_t> ids, size_t labels_size,
                                    std::span<const Sample> samples) {
  char* p = BeginSeries(labels_size, samples);
  for (uint32_t id : ids) {
    std::string_view label = pairs.encoded(id);
    std::memcpy(p, label.data(), label.size());
    p += label.size();
  }
  PutSamples(p, samples);
}

std::string_view SnappyBuffer::Compress(std::string_view in) {
  const size_t bound = snappy::MaxCompressedLength(in.size());
  if (bound > capacity_) {
    capacity_ = std::max(bound, capacity_ + capacity_ / 2);
    buf_ = std::make_unique_for_overwrite<char[]>(capacity_);
  }
  size_t n = 0;
  snappy::RawCompress(in.data(), in.size(), buf_.get(), &n);
  return {buf_.get(), n};
}

void SnappyCompress(std::string_view in, std::string* out) {
  out->resize(snappy::MaxCompressedLength(in.size()));
  size_t n = 0;
  snappy::RawCompress(in.data(), in.size(), out->data(), &n);
  out->resize(n);
}

}  // namespace shardwise::remotewrite
