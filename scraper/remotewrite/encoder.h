// WriteRequestEncoder: a hand-written protobuf encoder for the remote-write 1.0
// `prometheus.WriteRequest` message (timeseries only; no metadata, no exemplars).
//
// Contract: the bytes produced are identical to libprotobuf's SerializeToString of the
// same WriteRequest (proto3 rules: empty strings, +0.0 values and zero timestamps are
// omitted; -0.0 and every NaN are kept bit for bit). The encoder owns one reusable buffer,
// so a steady-state send allocates nothing.
//
// Labels are encoded once per label pair (the process's LabelPairTable keeps each pair as
// its Label message) or once per series (EncodeLabels); each batch then only copies those
// bytes and encodes samples, which is where the speed comes from.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/labels.h"
#include "scraper/storage/label_pair_table.h"

namespace shardwise::remotewrite {

struct Sample {
  int64_t t_ms = 0;
  double value = 0;
};

// Appends the repeated `labels` fields of a TimeSeries (field 1) for `labels` to `out`.
void EncodeLabels(const Labels& labels, std::string* out);

class WriteRequestEncoder {
 public:
  // Drops what was encoded so far; keeps the buffer's capacity.
  void Reset() { buf_.clear(); }
  // Appends one TimeSeries whose labels were encoded with EncodeLabels.
  void AddSeries(std::string_view encoded_labels, std::span<const Sample> samples);
  // Appends one TimeSeries whose labels are the pairs `ids` of `pairs` (held by the caller),
  // whose encoded sizes add up to `labels_size`.
  void AddSeries(const storage::LabelPairTable& pairs, std::span<const uint32_t> ids,
                 size_t labels_size, std::span<const Sample> samples);
  // The encoded WriteRequest so far; valid until the next call on this encoder.
  std::string_view bytes() const { return buf_; }

 private:
  // Appends the TimeSeries' tag and length, then room for `labels_size` bytes of labels
  // (returned) followed by the samples.
  char* BeginSeries(size_t labels_size, std::span<const Sample> samples);
  static void PutSamples(char* p, std::span<const Sample> samples);

  std::string buf_;
};

// Compresses `in` with snappy's raw block format (what remote write requires) into `out`,
// reusing its capacity.
void SnappyCompress(std::string_view in, std::string* out);

// The same for a sender that compresses request after request: the buffer grows to the
// largest bound seen and is never cleared (resizing a string to the bound zero-fills it
// on every call, ~1.5% of the scraper's CPU). The view is valid until the next Compress.
class SnappyBuffer {
 public:
  std::string_view Compress(std::string_view in);

 private:
  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;
};

}  // namespace shardwise::remotewrite
