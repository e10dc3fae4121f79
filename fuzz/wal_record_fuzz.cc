// libFuzzer target for the TSDB's WAL record decoder (scraper/tsdb/record.h), which reads
// whatever a damaged or foreign WAL segment holds. The input is one record payload.
//
// Invariants: decoding returns a Status and never crashes; what decodes re-encodes to a
// payload that decodes to the same records (values compared bit for bit) and that
// PeekRecordType names correctly.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "scraper/tsdb/record.h"

namespace tsdb = shardwise::tsdb;
using shardwise::fuzz::Check;

namespace {

bool SameBits(double a, double b) {
  uint64_t x, y;
  std::memcpy(&x, &a, sizeof x);
  std::memcpy(&y, &b, sizeof y);
  return x == y;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A private copy, so that ASan flags any read past the payload.
  const std::string payload(reinterpret_cast<const char*>(data), size);
  (void)tsdb::PeekRecordType(payload);

  std::vector<tsdb::SeriesRecord> series;
  if (tsdb::DecodeSeries(payload, &series).ok()) {
    std::string encoded;
    tsdb::EncodeSeries(series, &encoded);
    Check(tsdb::PeekRecordType(encoded) == tsdb::RecordType::kSeries, "series type byte");
    std::vector<tsdb::SeriesRecord> again;
    Check(tsdb::DecodeSeries(encoded, &again).ok(), "encoded series decode");
    Check(again == series, "series survive a round trip");
  }

  std::vector<tsdb::SampleRecord> samples;
  if (tsdb::DecodeSamples(payload, &samples).ok()) {
    std::string encoded;
    tsdb::EncodeSamples(samples, &encoded);
    Check(tsdb::PeekRecordType(encoded) == tsdb::RecordType::kSamples, "samples type byte");
    std::vector<tsdb::SampleRecord> again;
    Check(tsdb::DecodeSamples(encoded, &again).ok(), "encoded samples decode");
    Check(again.size() == samples.size(), "sample count survives");
    for (size_t i = 0; i < samples.size(); ++i) {
      Check(again[i].ref == samples[i].ref && again[i].t == samples[i].t &&
                SameBits(again[i].v, samples[i].v),
            "samples survive a round trip");
    }
  }
  return 0;
}
