#include "scraper/remotewrite/tsdb_wal_source.h"

#include "common/log/log.h"
#include "scraper/tsdb/checkpoint.h"
#include "scraper/tsdb/record.h"
#include "scraper/tsdb/wal/reader.h"

namespace shardwise::remotewrite {
namespace {

tsdb::wal::Position ToTsdb(WalPosition p) { return {p.segment, p.offset}; }
WalPosition FromTsdb(tsdb::wal::Position p) { return {p.segment, p.offset}; }

class TsdbWalReader : public WalReader {
 public:
  TsdbWalReader(tsdb::DB& db, WalPosition from)
      : db_(db), tailer_(std::make_unique<tsdb::wal::Tailer>(db.wal_dir(), ToTsdb(from))) {}

  Result<std::optional<WalRecord>> Next() override {
    Result<std::optional<tsdb::wal::Tailer::Record>> next = tailer_->Next();
    CountDamage();
    if (!next.ok()) {
      // Retention may have deleted several segments under us (the WAL size cap): go on
      // at the oldest one left. Anything else is a real error for the caller.
      uint32_t first = db_.FirstSegment();
      tsdb::wal::Position at = tailer_->position();
      if (at.segment >= first) return next.status();
      skipped_ += first - at.segment;
      tailer_ = std::make_unique<tsdb::wal::Tailer>(db_.wal_dir(), tsdb::wal::Position{first, 0});
      damage_seen_ = 0;
      return std::optional<WalRecord>();
    }
    if (!next->has_value()) return std::optional<WalRecord>();
    const auto& raw = **next;
    WalRecord rec;
    rec.at = FromTsdb(raw.at);
    rec.next = FromTsdb(tailer_->position());
    switch (tsdb::PeekRecordType(raw.payload)) {
      case tsdb::RecordType::kSeries: {
        series_.clear();
        SHARDWISE_RETURN_IF_ERROR(tsdb::DecodeSeries(raw.payload, &series_));
        rec.series.reserve(series_.size());
        for (auto& s : series_) rec.series.push_back({s.ref, std::move(s.labels)});
        break;
      }
      case tsdb::RecordType::kSamples: {
        samples_.clear();
        SHARDWISE_RETURN_IF_ERROR(tsdb::DecodeSamples(raw.payload, &samples_));
        rec.samples.reserve(samples_.size());
        for (const auto& s : samples_) rec.samples.push_back({s.ref, s.t, s.v});
        break;
      }
      default:
        break;  // a record type remote write does not send; it still advances the cursor
    }
    return std::optional<WalRecord>(std::move(rec));
  }

  uint64_t skipped_segments() const override { return skipped_; }

 private:
  void CountDamage() {
    const auto& damage = tailer_->damage();
    for (; damage_seen_ < damage.size(); ++damage_seen_) {
      ++skipped_;
      log::Error("remote write: WAL damage skipped", {{"damage", damage[damage_seen_].ToString()}});
    }
  }

  tsdb::DB& db_;
  std::unique_ptr<tsdb::wal::Tailer> tailer_;
  size_t damage_seen_ = 0;
  uint64_t skipped_ = 0;
  std::vector<tsdb::SeriesRecord> series_;
  std::vector<tsdb::SampleRecord> samples_;
};

}  // namespace

Result<WalPosition> TsdbWalSource::ReadCheckpoint(const std::function<void(WalSeries)>& fn) {
  auto checkpoint = tsdb::LatestCheckpoint(db_.wal_dir());
  if (!checkpoint.ok()) return checkpoint.status();
  if (checkpoint->has_value()) {
    std::vector<tsdb::SeriesRecord> series;
    SHARDWISE_RETURN_IF_ERROR(tsdb::ReadCheckpoint((*checkpoint)->path, &series));
    for (auto& s : series) fn({s.ref, std::move(s.labels)});
  }
  return WalPosition{db_.FirstSegment(), 0};
}

std::unique_ptr<WalReader> TsdbWalSource::NewReader(WalPosition from) {
  return std::make_unique<TsdbWalReader>(db_, from);
}

WalPosition TsdbWalSource::End() { return FromTsdb(db_.WalEnd()); }

void TsdbWalSource::WaitForAppend(WalPosition known_end, std::chrono::milliseconds max_wait) {
  // WalEnd() is past the last record, so "past known_end" means a new record.
  db_.WaitForWal(ToTsdb(known_end), max_wait);
}

void TsdbWalSource::Acknowledge(const std::string& consumer, WalPosition pos) {
  std::lock_guard lock(mu_);
  auto& handle = consumers_[consumer];
  if (!handle) handle = db_.RegisterWalConsumer(consumer);
  handle->SetAcknowledged(ToTsdb(pos));
}

}  // namespace shardwise::remotewrite
