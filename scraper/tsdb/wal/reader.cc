#include "scraper/tsdb/wal/reader.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "scraper/tsdb/wal/record_reader.h"

namespace shardwise::tsdb::wal {

std::string Damage::ToString() const {
  return std::string(torn_tail ? "torn tail" : "corruption") + " in segment " +
         SegmentName(at.segment) + " at offset " + std::to_string(at.offset) + " (" + reason +
         ", " + std::to_string(lost_bytes) + " bytes " + (torn_tail ? "truncated" : "skipped") +
         ")";
}

Result<ReplayReport> Replay(const std::string& dir, const ReplayOptions& options,
                            const RecordFn& fn) {
  auto listed = ListSegments(dir);
  if (!listed.ok()) return listed.status();
  std::vector<uint32_t> segments;
  for (uint32_t s : *listed) {
    if (s >= options.first_segment) segments.push_back(s);
  }
  ReplayReport report;
  for (size_t i = 0; i < segments.size(); ++i) {
    uint32_t seg = segments[i];
    bool last = i + 1 == segments.size();
    if (i > 0 && segments[i - 1] + 1 != seg) {
      report.damage.push_back({{segments[i - 1] + 1, 0},
                               0,
                               false,
                               "segments " + SegmentName(segments[i - 1] + 1) + ".." +
                                   SegmentName(seg - 1) + " missing"});
    }
    std::string path = SegmentPath(dir, seg);
    auto size = FileSize(path);
    if (!size.ok()) return size.status();
    report.segments.push_back(seg);
    RecordReader reader(path, 0);
    // Damage in the last segment followed by nothing readable is a torn tail: the segment
    // is cut back to the last good record. Followed by good records it is corruption.
    std::optional<Damage> pending;
    for (bool done = false; !done;) {
      auto r = reader.Next();
      if (!r.ok()) return r.status();
      switch (*r) {
        case RecordReader::Outcome::kRecord:
          if (pending) {
            report.damage.push_back(std::move(*pending));
            pending.reset();
          }
          SHARDWISE_RETURN_IF_ERROR(fn({seg, reader.start()}, reader.record()));
          ++report.records;
          report.bytes += reader.offset() - reader.start();
          break;
        case RecordReader::Outcome::kCorrupt: {
          if (pending) report.damage.push_back(std::move(*pending));
          uint64_t to = std::min(reader.offset(), *size);
          pending = Damage{{seg, reader.damage_start()},
                           to - std::min(to, reader.damage_start()),
                           false,
                           reader.damage_reason()};
          break;
        }
        case RecordReader::Outcome::kIncomplete:
          if (!pending) {
            pending =
                Damage{{seg, reader.offset()}, *size - reader.offset(), false, "incomplete record"};
          }
          done = true;
          break;
        case RecordReader::Outcome::kEnd:
          done = true;
          break;
      }
    }
    if (!pending) continue;
    if (last) {
      pending->torn_tail = true;
      pending->lost_bytes = *size - pending->at.offset;
      if (options.repair && ::truncate(path.c_str(), static_cast<off_t>(pending->at.offset)) != 0) {
        return Status::IOError("truncate " + path + ": " + std::strerror(errno));
      }
    }
    report.damage.push_back(std::move(*pending));
  }
  return report;
}

Status ReadAllRecords(const std::string& path, const std::function<Status(std::string_view)>& fn) {
  RecordReader reader(path, 0);
  for (;;) {
    auto r = reader.Next();
    if (!r.ok()) return r.status();
    if (*r == RecordReader::Outcome::kEnd) return Status::OK();
    if (*r == RecordReader::Outcome::kIncomplete) {
      return Status::Corruption(path + " at offset " + std::to_string(reader.offset()) +
                                ": incomplete record");
    }
    if (*r == RecordReader::Outcome::kCorrupt) {
      return Status::Corruption(path + ": " + reader.damage_reason());
    }
    SHARDWISE_RETURN_IF_ERROR(fn(reader.record()));
  }
}

Result<std::optional<Tailer::Record>> Tailer::Next() {
  // Whether a later segment exists, checked only once this one seems read to its end,
  // and then read once more: the writer finishes a segment before it creates the next,
  // so what that read finds is the segment's true end.
  bool finished = false;
  for (;;) {
    if (!reader_ || reader_->path() != SegmentPath(dir_, pos_.segment)) {
      reader_ = std::make_unique<RecordReader>(SegmentPath(dir_, pos_.segment), pos_.offset);
    }
    auto r = reader_->Next();
    std::error_code ec;
    if (!r.ok()) {
      finished = std::filesystem::exists(SegmentPath(dir_, pos_.segment + 1), ec);
      // The segment may have been deleted by retention after we were told to resume
      // there; anything else is a real error.
      if (!std::filesystem::exists(SegmentPath(dir_, pos_.segment), ec) && finished) {
        damage_.push_back({pos_, 0, false, "segment deleted before it was read"});
        pos_ = {pos_.segment + 1, 0};
        reader_.reset();
        continue;
      }
      return r.status();
    }
    switch (*r) {
      case RecordReader::Outcome::kRecord:
        pos_.offset = reader_->offset();
        return std::optional<Record>(Record{{pos_.segment, reader_->start()}, reader_->record()});
      case RecordReader::Outcome::kCorrupt:
        damage_.push_back({{pos_.segment, reader_->damage_start()},
                           reader_->offset() - reader_->damage_start(),
                           false,
                           reader_->damage_reason()});
        pos_.offset = reader_->offset();
        continue;
      case RecordReader::Outcome::kIncomplete:
      case RecordReader::Outcome::kEnd:
        if (!finished) {
          if (!std::filesystem::exists(SegmentPath(dir_, pos_.segment + 1), ec)) {
            // Read to its end, but deleted (retention) with the next one: the segments
            // after it are gone too, which the caller must learn as it did when opening
            // a deleted segment failed.
            if (reader_->Unlinked()) {
              return Status::IOError("WAL segment " + SegmentPath(dir_, pos_.segment) +
                                     " was deleted while being read, and the next with it");
            }
            return std::optional<Record>();
          }
          finished = true;
          continue;
        }
        if (*r == RecordReader::Outcome::kIncomplete) {
          auto size = FileSize(SegmentPath(dir_, pos_.segment));
          damage_.push_back({pos_, size.ok() && *size > pos_.offset ? *size - pos_.offset : 0,
                             false, "incomplete record"});
        }
        pos_ = {pos_.segment + 1, 0};
        reader_.reset();
        finished = false;
        continue;
    }
  }
}

}  // namespace shardwise::tsdb::wal
