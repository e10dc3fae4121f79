#include "scraper/remotewrite/tsdb_wal_source.h"

#include <chrono>
#include <thread>

#include "common/log/log.h"
#include "scraper/tsdb/checkpoint.h"
#include "scraper/tsdb/record.h"
#include "scraper/tsdb/wal/reader.h"

namespace shardwise::remotewrite {
namespace {

tsdb::wal::Position ToTsdb(WalPosition p) { return {p.segment, p.offset}; }
WalPosition FromTsdb(tsdb::wal::Position p) { return {p.segment, p.offset}; }

// The series of the newest checkpoint. Retention may replace it between listing and
// reading (the older file is removed), and a directory listing may miss a file renamed
// while it runs: so a failed read, or a listing without the checkpoint that must exist
// (segments before FirstSegment() were deleted, so one covers them), is tried again.
Status ReadLatestCheckpoint(const tsdb::DB& db, std::vector<tsdb::SeriesRecord>* out) {
  Status last = Status::OK();
  for (int attempt = 0; attempt < 20; ++attempt) {
    out->clear();
    const uint32_t first = db.FirstSegment();
    auto checkpoint = tsdb::LatestCheckpoint(db.wal_dir());
    if (!checkpoint.ok()) return checkpoint.status();
    if (!checkpoint->has_value() || (*checkpoint)->last_segment + 1 < first) {
      if (first == 0) return Status::OK();  // nothing was ever deleted: no checkpoint needed
      last = Status::Unavailable("no WAL checkpoint covering the segments before " +
                                 std::to_string(first) + " found yet");
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    last = tsdb::ReadCheckpoint((*checkpoint)->path, out);
    if (last.ok()) return last;
  }
  return last;
}

class TsdbWalReader : public WalReader {
 public:
  TsdbWalReader(tsdb::DB& db, WalPosition from)
      : db_(db), tailer_(std::make_unique<tsdb::wal::Tailer>(db.wal_dir(), ToTsdb(from))) {}

  Result<std::optional<WalRecord>> Next() override {
    if (need_checkpoint_) {
      // Segments were skipped: the series they defined are in the checkpoint that was
      // written before they were deleted (or a newer one). Hand them out before any
      // sample that may refer to them.
      SHARDWISE_RETURN_IF_ERROR(ReadLatestCheckpoint(db_, &series_));
      need_checkpoint_ = false;
      WalRecord rec;
      rec.at = rec.next = FromTsdb(tailer_->position());
      rec.series.reserve(series_.size());
      for (auto& s : series_) rec.series.push_back({s.ref, std::move(s.labels)});
      return std::optional<WalRecord>(std::move(rec));
    }
    Result<std::optional<tsdb::wal::Tailer::Record>> next = tailer_->Next();
    if (CountDamage()) {
      if (next.ok() && next->has_value()) {
        // The tailer already stepped over the deleted segments into this record. Serve
        // the checkpoint first and read this record again afterwards: a fresh tailer at
        // its position gives it back.
        tailer_ = std::make_unique<tsdb::wal::Tailer>(db_.wal_dir(), (*next)->at);
        damage_seen_ = 0;
      }
      need_checkpoint_ = true;
      return std::optional<WalRecord>();
    }
    if (!next.ok()) {
      // Retention may have deleted several segments under us (the WAL size cap): go on
      // at the oldest one left. Anything else is a real error for the caller.
      uint32_t first = db_.FirstSegment();
      tsdb::wal::Position at = tailer_->position();
      if (at.segment >= first) return next.status();
      skipped_ += first - at.segment;
      log::Error("remote write: WAL segments deleted before they were read",
                 {{"from_segment", at.segment}, {"resuming_at", first}});
      tailer_ = std::make_unique<tsdb::wal::Tailer>(db_.wal_dir(), tsdb::wal::Position{first, 0});
      damage_seen_ = 0;
      need_checkpoint_ = true;
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
      case tsdb::RecordType::kSeriesRemoved:
        SHARDWISE_RETURN_IF_ERROR(tsdb::DecodeSeriesRemoved(raw.payload, &rec.removed));
        break;
      default:
        break;  // a record type remote write does not send; it still advances the cursor
    }
    return std::optional<WalRecord>(std::move(rec));
  }

  uint64_t skipped_segments() const override { return skipped_; }

 private:
  // Counts segments the tailer stepped over (deleted under it, or damaged); true if any.
  bool CountDamage() {
    const auto& damage = tailer_->damage();
    bool any = false;
    for (; damage_seen_ < damage.size(); ++damage_seen_) {
      ++skipped_;
      any = true;
      log::Error("remote write: WAL damage skipped", {{"damage", damage[damage_seen_].ToString()}});
    }
    return any;
  }

  tsdb::DB& db_;
  std::unique_ptr<tsdb::wal::Tailer> tailer_;
  size_t damage_seen_ = 0;
  uint64_t skipped_ = 0;
  bool need_checkpoint_ = false;
  std::vector<tsdb::SeriesRecord> series_;
  std::vector<tsdb::SampleRecord> samples_;
};

}  // namespace

Result<WalPosition> TsdbWalSource::ReadCheckpoint(const std::function<void(WalSeries)>& fn) {
  // FirstSegment() before the checkpoint: a checkpoint read later covers at least the
  // segments deleted before that position.
  const WalPosition start{db_.FirstSegment(), 0};
  std::vector<tsdb::SeriesRecord> series;
  SHARDWISE_RETURN_IF_ERROR(ReadLatestCheckpoint(db_, &series));
  for (auto& s : series) fn({s.ref, std::move(s.labels)});
  return start;
}

std::unique_ptr<WalReader> TsdbWalSource::NewReader(WalPosition from) {
  return std::make_unique<TsdbWalReader>(db_, from);
}

WalPosition TsdbWalSource::End() { return FromTsdb(db_.WalEnd()); }

void TsdbWalSource::WaitForAppend(WalPosition known_end, std::chrono::milliseconds max_wait,
                                  uint64_t min_bytes) {
  // WalEnd() is past the last record, so "past known_end" means a new record.
  db_.WaitForWal(ToTsdb(known_end), max_wait, min_bytes);
}

void TsdbWalSource::Acknowledge(const std::string& consumer, WalPosition pos) {
  std::lock_guard lock(mu_);
  auto& handle = consumers_[consumer];
  if (!handle) handle = db_.RegisterWalConsumer(consumer);
  handle->SetAcknowledged(ToTsdb(pos));
}

void TsdbWalSource::Release(const std::string& consumer) {
  std::lock_guard lock(mu_);
  consumers_.erase(consumer);  // the last handle: the DB forgets the consumer
}

}  // namespace shardwise::remotewrite
