#include "scraper/tsdb/record.h"

#include "scraper/tsdb/encoding.h"

namespace shardwise::tsdb {

RecordType PeekRecordType(std::string_view payload) {
  if (payload.empty()) return RecordType::kInvalid;
  auto t = static_cast<RecordType>(payload[0]);
  return (t == RecordType::kSeries || t == RecordType::kSamples || t == RecordType::kSeriesRemoved)
             ? t
             : RecordType::kInvalid;
}

void BeginSeriesRecord(std::string* out, size_t count) {
  out->push_back(static_cast<char>(RecordType::kSeries));
  PutUvarint(out, count);
}

void AddSeriesToRecord(std::string* out, uint64_t ref, size_t label_count) {
  PutUvarint(out, ref);
  PutUvarint(out, label_count);
}

void AddLabelToRecord(std::string* out, std::string_view name, std::string_view value) {
  PutString(out, name);
  PutString(out, value);
}

void EncodeSeries(std::span<const SeriesRecord> series, std::string* out) {
  BeginSeriesRecord(out, series.size());
  for (const auto& s : series) {
    AddSeriesToRecord(out, s.ref, s.labels.size());
    for (const auto& l : s.labels) AddLabelToRecord(out, l.name, l.value);
  }
}

Status DecodeSeries(std::string_view payload, std::vector<SeriesRecord>* out) {
  Decoder d(payload);
  if (static_cast<RecordType>(d.Byte()) != RecordType::kSeries) {
    return Status::Corruption("not a series record");
  }
  uint64_t count = d.Uvarint();
  if (count > payload.size()) return Status::Corruption("series record: bad count");
  for (uint64_t i = 0; i < count && !d.failed(); ++i) {
    SeriesRecord rec;
    rec.ref = d.Uvarint();
    uint64_t n = d.Uvarint();
    if (n > d.remaining()) return Status::Corruption("series record: bad label count");
    std::vector<Label> labels;
    labels.reserve(n);
    for (uint64_t j = 0; j < n; ++j) {
      std::string_view name = d.String();
      std::string_view value = d.String();
      labels.push_back({std::string(name), std::string(value)});
    }
    if (d.failed()) break;
    rec.labels = Labels::FromUnsorted(std::move(labels));
    out->push_back(std::move(rec));
  }
  if (d.failed() || !d.done())
    return Status::Corruption("series record: truncated or trailing bytes");
  return Status::OK();
}

void EncodeSamples(std::span<const SampleRecord> samples, std::string* out) {
  out->push_back(static_cast<char>(RecordType::kSamples));
  PutUvarint(out, samples.size());
  if (samples.empty()) return;
  const SampleRecord& first = samples[0];
  PutUvarint(out, first.ref);
  PutVarint(out, first.t);
  PutDouble(out, first.v);
  for (size_t i = 1; i < samples.size(); ++i) {
    const SampleRecord& s = samples[i];
    PutVarint(out, static_cast<int64_t>(s.ref - first.ref));
    PutVarint(out, WrappingSub(s.t, first.t));
    PutDouble(out, s.v);
  }
}

Status DecodeSamples(std::string_view payload, std::vector<SampleRecord>* out) {
  Decoder d(payload);
  if (static_cast<RecordType>(d.Byte()) != RecordType::kSamples) {
    return Status::Corruption("not a samples record");
  }
  uint64_t count = d.Uvarint();
  if (count > payload.size()) return Status::Corruption("samples record: bad count");
  if (count > 0) {
    SampleRecord first;
    first.ref = d.Uvarint();
    first.t = d.Varint();
    first.v = d.Double();
    out->reserve(out->size() + count);
    out->push_back(first);
    for (uint64_t i = 1; i < count && !d.failed(); ++i) {
      SampleRecord s;
      s.ref = first.ref + static_cast<uint64_t>(d.Varint());
      s.t = WrappingAdd(first.t, d.Varint());
      s.v = d.Double();
      out->push_back(s);
    }
  }
  if (d.failed() || !d.done())
    return Status::Corruption("samples record: truncated or trailing bytes");
  return Status::OK();
}

void EncodeSeriesRemoved(std::span<const uint64_t> refs, std::string* out) {
  out->push_back(static_cast<char>(RecordType::kSeriesRemoved));
  PutUvarint(out, refs.size());
  uint64_t prev = 0;
  for (uint64_t ref : refs) {
    PutUvarint(out, ref - prev);
    prev = ref;
  }
}

Status DecodeSeriesRemoved(std::string_view payload, std::vector<uint64_t>* out) {
  Decoder d(payload);
  if (static_cast<RecordType>(d.Byte()) != RecordType::kSeriesRemoved) {
    return Status::Corruption("not a series-removed record");
  }
  uint64_t count = d.Uvarint();
  if (count > payload.size()) return Status::Corruption("series-removed record: bad count");
  uint64_t ref = 0;
  for (uint64_t i = 0; i < count && !d.failed(); ++i) {
    ref += d.Uvarint();
    out->push_back(ref);
  }
  if (d.failed() || !d.done()) {
    return Status::Corruption("series-removed record: truncated or trailing bytes");
  }
  return Status::OK();
}

}  // namespace shardwise::tsdb
