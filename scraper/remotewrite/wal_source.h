// WalSource: the small view of the TSDB's write-ahead log that remote write needs.
//
// Remote write keeps no copy of the data: it tails the WAL. The contract it needs:
//  - ReadCheckpoint: the series (ref -> labels) that were live when the last checkpoint
//    was taken, and the first position after it. Series records in the segments that
//    follow complete the picture.
//  - NewReader(from): decoded records in WAL order starting at `from`, each with its own
//    position and the position after it (`next`). A reader returns nullopt when caught up
//    with the writer; polling it again later returns what was appended meanwhile. If the
//    segments under the reader were deleted (size cap reached), the reader continues at
//    the oldest remaining segment and counts what it skipped in skipped_segments(); it
//    may first return a series-only record re-defining the series the lost part did.
//  - End(): the position just past the last record written, for Flush.
//  - WaitForAppend: blocks until something is written past `known_end` or max_wait passes.
//    With min_bytes, the source may leave the caller asleep until that much was written
//    (a batching reader is then not woken by every small append); a hint, not a promise.
//  - Acknowledge(consumer, pos): everything before `pos` is safely delivered; retention
//    may delete segments wholly below the minimum acknowledged position of all consumers
//    (unless the WAL exceeds its size cap — then the oldest go anyway).
//  - Release(consumer): the consumer is gone for good (its endpoint was removed); retention
//    no longer waits for it.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/labels.h"
#include "common/status.h"

namespace shardwise::remotewrite {

struct WalPosition {
  uint32_t segment = 0;
  uint64_t offset = 0;
  auto operator<=>(const WalPosition&) const = default;
};

struct WalSeries {
  uint64_t ref = 0;
  Labels labels;
};

struct WalSample {
  uint64_t ref = 0;
  int64_t t_ms = 0;
  double value = 0;
};

// One WAL record: series definitions, samples, or series removed from storage (no later
// record refers to them: forget them), or none of these (a record type remote write does
// not care about, which still advances the position).
struct WalRecord {
  WalPosition at, next;
  std::vector<WalSeries> series;
  std::vector<WalSample> samples;
  std::vector<uint64_t> removed;
};

class WalReader {
 public:
  virtual ~WalReader() = default;
  virtual Result<std::optional<WalRecord>> Next() = 0;
  virtual uint64_t skipped_segments() const = 0;
};

class WalSource {
 public:
  virtual ~WalSource() = default;
  virtual Result<WalPosition> ReadCheckpoint(const std::function<void(WalSeries)>& fn) = 0;
  virtual std::unique_ptr<WalReader> NewReader(WalPosition from) = 0;
  virtual WalPosition End() = 0;
  virtual void WaitForAppend(WalPosition known_end, std::chrono::milliseconds max_wait,
                             uint64_t min_bytes = 0) = 0;
  virtual void Acknowledge(const std::string& consumer, WalPosition pos) = 0;
  virtual void Release(const std::string& consumer) = 0;
};

}  // namespace shardwise::remotewrite
