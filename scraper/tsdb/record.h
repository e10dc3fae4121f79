// WAL record payloads. Every payload starts with a type byte:
//
//   series  (1): count uvarint, then per series: ref uvarint, label count uvarint,
//                (name, value) as length-prefixed strings, name-sorted.
//   samples (2): count uvarint, first sample as ref uvarint, t varint, v fixed64;
//                later samples as ref and t deltas from the first (zigzag varints) and
//                v fixed64. A commit's samples go in one record, so a scrape of
//                same-timestamp, nearly-consecutive refs costs ~10 bytes per sample.
//   series removed (3): count uvarint, refs ascending as uvarint deltas. Retention
//                removed these series from the head: no later record mentions them, so
//                WAL consumers (remote write) forget them when they read it.
//
// Values are stored as raw IEEE-754 bits so stale markers survive bit for bit.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"
#include "common/status.h"

namespace shardwise::tsdb {

enum class RecordType : uint8_t { kInvalid = 0, kSeries = 1, kSamples = 2, kSeriesRemoved = 3 };

struct SeriesRecord {
  uint64_t ref = 0;
  Labels labels;
  bool operator==(const SeriesRecord&) const = default;
};

struct SampleRecord {
  uint64_t ref = 0;
  int64_t t = 0;
  double v = 0;
};

RecordType PeekRecordType(std::string_view payload);

// Series encoding is split so callers holding labels in another form (the head's
// interned strings) need not build Labels: Begin, then Add for each series.
void BeginSeriesRecord(std::string* out, size_t count);
void AddSeriesToRecord(std::string* out, uint64_t ref, size_t label_count);
void AddLabelToRecord(std::string* out, std::string_view name, std::string_view value);
void EncodeSeries(std::span<const SeriesRecord> series, std::string* out);
Status DecodeSeries(std::string_view payload, std::vector<SeriesRecord>* out);

void EncodeSamples(std::span<const SampleRecord> samples, std::string* out);
Status DecodeSamples(std::string_view payload, std::vector<SampleRecord>* out);

// `refs` must be ascending.
void EncodeSeriesRemoved(std::span<const uint64_t> refs, std::string* out);
Status DecodeSeriesRemoved(std::string_view payload, std::vector<uint64_t>* out);

}  // namespace shardwise::tsdb
