// libFuzzer target for the TSDB's chunk encodings (scraper/tsdb/chunkenc). The first byte
// picks the mode:
//   0: the rest is a sealed chunk (encoding byte + bytes), read with Iterator;
//   1: the rest is a raw XOR chunk, read with XorIterator;
//   2: the rest is a raw decimal chunk, read with DecimalIterator;
//   3: the rest is a list of (timestamp delta, value) pairs, 16 bytes each, appended to an
//      XOR chunk, sealed, and read back.
//
// Invariants: iterating arbitrary bytes ends (with or without error()) after no more
// samples than the chunk's count header allows, and never crashes; in mode 3 the chunk
// returns exactly what was appended, values bit for bit, whichever encoding Seal picks.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "scraper/tsdb/chunkenc/chunk.h"

namespace chunkenc = shardwise::tsdb::chunkenc;
using shardwise::fuzz::Check;

namespace {

// The u16 big-endian count both raw encodings start with (0 if too short).
int CountHeader(std::string_view raw) {
  if (raw.size() < 2) return 0;
  return (static_cast<uint8_t>(raw[0]) << 8) | static_cast<uint8_t>(raw[1]);
}

template <typename It>
void Drain(It& it, int max_samples) {
  int n = 0;
  while (it.Next()) {
    (void)it.t();
    (void)it.v();
    Check(++n <= max_samples, "no more samples than the count header");
  }
  (void)it.error();
}

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

void RoundTrip(std::string_view in) {
  struct Point {
    int64_t t;
    double v;
  };
  std::vector<Point> points;
  int64_t t = 0;
  while (in.size() >= 16 && points.size() < static_cast<size_t>(chunkenc::kSamplesPerChunk)) {
    uint64_t delta_bits;
    std::memcpy(&delta_bits, in.data(), 8);
    double v;
    std::memcpy(&v, in.data() + 8, 8);
    in.remove_prefix(16);
    // Strictly increasing timestamps (the head's contract). The first anywhere; later steps
    // up to 2^40 ms, or, when the top bit is set, any step that keeps the timestamp within
    // int64, even more than INT64_MAX (a target may expose any timestamp).
    if (points.empty()) {
      t = static_cast<int64_t>(delta_bits);
    } else {
      const uint64_t step = delta_bits >> 63
                                ? (delta_bits << 1) | 1
                                : std::max<uint64_t>(1, delta_bits & ((uint64_t{1} << 40) - 1));
      const uint64_t room =
          static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - static_cast<uint64_t>(t);
      if (step > room) break;
      t = static_cast<int64_t>(static_cast<uint64_t>(t) + step);
    }
    points.push_back({t, v});
  }
  if (points.empty()) return;
  chunkenc::XorAppender app;
  for (const auto& p : points) app.Append(p.t, p.v);
  Check(app.num_samples() == static_cast<int>(points.size()), "appender counts samples");
  const std::string sealed = chunkenc::Seal(app.Finish());
  chunkenc::Iterator it(sealed);
  for (const auto& p : points) {
    Check(it.Next(), "every appended sample comes back");
    Check(it.t() == p.t, "timestamps round-trip");
    Check(Bits(it.v()) == Bits(p.v), "values round-trip bit for bit");
  }
  Check(!it.Next() && !it.error(), "a sealed chunk ends cleanly");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // A private copy, so that ASan flags any read past the chunk.
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] & 3) {
    case 0: {
      chunkenc::Iterator it(body);
      Drain(it, body.empty() ? 0 : CountHeader(std::string_view(body).substr(1)));
      break;
    }
    case 1: {
      chunkenc::XorIterator it(body);
      Drain(it, CountHeader(body));
      break;
    }
    case 2: {
      chunkenc::DecimalIterator it(body);
      Drain(it, CountHeader(body));
      break;
    }
    case 3:
      RoundTrip(body);
      break;
  }
  return 0;
}
