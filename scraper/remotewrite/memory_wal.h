// MemoryWal: an in-memory WalSource for tests and benchmarks, with the same observable
// behaviour as the TSDB's WAL: records in segments, positions that grow, a reader that
// tails, acknowledgements, and deletion of the oldest segments (DropSegmentsBefore) to
// play the size cap. Thread-safe.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>

#include "scraper/remotewrite/wal_source.h"

namespace shardwise::remotewrite {

class MemoryWal : public WalSource {
 public:
  explicit MemoryWal(size_t records_per_segment = 64) : records_per_segment_(records_per_segment) {}

  void AppendSeries(std::vector<WalSeries> series);
  void AppendSamples(std::vector<WalSample> samples);
  void AppendRemoved(std::vector<uint64_t> refs);
  // Deletes whole segments below `segment` (retention or the size cap).
  void DropSegmentsBefore(uint32_t segment);
  // The last acknowledgement of `consumer`, if any.
  std::optional<WalPosition> Acknowledged(const std::string& consumer) const;

  Result<WalPosition> ReadCheckpoint(const std::function<void(WalSeries)>& fn) override;
  std::unique_ptr<WalReader> NewReader(WalPosition from) override;
  WalPosition End() override;
  void WaitForAppend(WalPosition known_end, std::chrono::milliseconds max_wait,
                     uint64_t min_bytes = 0) override;
  void Acknowledge(const std::string& consumer, WalPosition pos) override;
  void Release(const std::string& consumer) override;

 private:
  class Reader;
  void Append(WalRecord record);

  const size_t records_per_segment_;
  mutable std::mutex mu_;
  std::condition_variable appended_;
  // Records keyed by position; offsets count records within a segment.
  std::map<WalPosition, WalRecord> records_;
  WalPosition end_;
  std::map<std::string, WalPosition> acks_;
};

}  // namespace shardwise::remotewrite
