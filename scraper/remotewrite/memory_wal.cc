#include "scraper/remotewrite/memory_wal.h"

namespace shardwise::remotewrite {

class MemoryWal::Reader : public WalReader {
 public:
  Reader(MemoryWal* wal, WalPosition from) : wal_(wal), pos_(from) {}

  Result<std::optional<WalRecord>> Next() override {
    std::lock_guard lock(wal_->mu_);
    WalPosition expect = pos_;
    if (expect.offset == wal_->records_per_segment_) expect = {expect.segment + 1, 0};
    auto it = wal_->records_.lower_bound(expect);
    if (it == wal_->records_.end()) return std::optional<WalRecord>();
    if (it->first != expect) skipped_ += it->first.segment - expect.segment;  // deleted
    pos_ = it->second.next;
    return std::optional<WalRecord>(it->second);
  }
  uint64_t skipped_segments() const override { return skipped_; }

 private:
  MemoryWal* wal_;
  WalPosition pos_;
  uint64_t skipped_ = 0;
};

void MemoryWal::Append(WalRecord record) {
  {
    std::lock_guard lock(mu_);
    if (end_.offset == records_per_segment_) end_ = {end_.segment + 1, 0};
    record.at = end_;
    record.next = {end_.segment, end_.offset + 1};
    end_ = record.next;
    records_.emplace(record.at, std::move(record));
  }
  appended_.notify_all();
}

void MemoryWal::AppendSeries(std::vector<WalSeries> series) {
  WalRecord r;
  r.series = std::move(series);
  Append(std::move(r));
}

void MemoryWal::AppendSamples(std::vector<WalSample> samples) {
  WalRecord r;
  r.samples = std::move(samples);
  Append(std::move(r));
}

void MemoryWal::AppendRemoved(std::vector<uint64_t> refs) {
  WalRecord r;
  r.removed = std::move(refs);
  Append(std::move(r));
}

void MemoryWal::DropSegmentsBefore(uint32_t segment) {
  std::lock_guard lock(mu_);
  records_.erase(records_.begin(), records_.lower_bound(WalPosition{segment, 0}));
}

std::optional<WalPosition> MemoryWal::Acknowledged(const std::string& consumer) const {
  std::lock_guard lock(mu_);
  auto it = acks_.find(consumer);
  if (it == acks_.end()) return std::nullopt;
  return it->second;
}

Result<WalPosition> MemoryWal::ReadCheckpoint(const std::function<void(WalSeries)>& fn) {
  // No checkpoint: series records stay in the segments. Start at the oldest record.
  std::lock_guard lock(mu_);
  if (records_.empty()) return end_;
  return WalPosition{records_.begin()->first.segment, 0};
}

std::unique_ptr<WalReader> MemoryWal::NewReader(WalPosition from) {
  return std::make_unique<Reader>(this, from);
}

WalPosition MemoryWal::End() {
  std::lock_guard lock(mu_);
  return end_;
}

void MemoryWal::WaitForAppend(WalPosition known_end, std::chrono::milliseconds max_wait,
                              uint64_t /*min_bytes: every append wakes*/) {
  std::unique_lock lock(mu_);
  appended_.wait_for(lock, max_wait, [&] { return end_ != known_end; });
}

void MemoryWal::Acknowledge(const std::string& consumer, WalPosition pos) {
  std::lock_guard lock(mu_);
  acks_[consumer] = pos;
}

void MemoryWal::Release(const std::string& consumer) {
  std::lock_guard lock(mu_);
  acks_.erase(consumer);
}

}  // namespace shardwise::remotewrite
