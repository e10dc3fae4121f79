#include "scraper/tsdb/wal/reader.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace shardwise::tsdb::wal {

std::string Damage::ToString() const {
  return std::string(torn_tail ? "torn tail" : "corruption") + " in segment " +
         SegmentName(at.segment) + " at offset " + std::to_string(at.offset) + " (" + reason +
         ", " + std::to_string(lost_bytes) + " bytes " + (torn_tail ? "truncated" : "skipped") +
         ")";
}

namespace {

const char* Describe(FrameResult r) {
  return r == FrameResult::kIncomplete ? "incomplete record" : "checksum or length mismatch";
}

}  // namespace

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
    auto data = ReadFileFrom(path, 0);
    if (!data.ok()) return data.status();
    std::string_view rest = *data;
    uint64_t offset = 0;
    report.segments.push_back(seg);
    while (!rest.empty()) {
      std::string_view payload;
      size_t size = 0;
      FrameResult r = ParseFrame(rest, &payload, &size);
      if (r != FrameResult::kRecord) {
        Damage d{{seg, offset}, rest.size(), last, Describe(r)};
        if (last && options.repair) {
          if (::truncate(path.c_str(), static_cast<off_t>(offset)) != 0) {
            return Status::IOError("truncate " + path + ": " + std::strerror(errno));
          }
        }
        report.damage.push_back(std::move(d));
        break;
      }
      SHARDWISE_RETURN_IF_ERROR(fn({seg, offset}, payload));
      ++report.records;
      report.bytes += size;
      offset += size;
      rest.remove_prefix(size);
    }
  }
  return report;
}

Status ReadAllRecords(const std::string& path, const std::function<Status(std::string_view)>& fn) {
  auto data = ReadFileFrom(path, 0);
  if (!data.ok()) return data.status();
  std::string_view rest = *data;
  uint64_t offset = 0;
  while (!rest.empty()) {
    std::string_view payload;
    size_t size = 0;
    FrameResult r = ParseFrame(rest, &payload, &size);
    if (r != FrameResult::kRecord) {
      return Status::Corruption(path + " at offset " + std::to_string(offset) + ": " + Describe(r));
    }
    SHARDWISE_RETURN_IF_ERROR(fn(payload));
    offset += size;
    rest.remove_prefix(size);
  }
  return Status::OK();
}

Status Tailer::Fill() {
  // Keep what is unconsumed and read whatever the writer has appended since.
  buf_.erase(0, consumed_);
  consumed_ = 0;
  auto more = ReadFileFrom(SegmentPath(dir_, pos_.segment), pos_.offset + buf_.size());
  if (!more.ok()) return more.status();
  buf_ += *more;
  return Status::OK();
}

Result<std::optional<Tailer::Record>> Tailer::Next() {
  for (;;) {
    std::string_view rest = std::string_view(buf_).substr(consumed_);
    std::string_view payload;
    size_t size = 0;
    FrameResult r = ParseFrame(rest, &payload, &size);
    if (r == FrameResult::kRecord) {
      Record rec{pos_, payload};
      consumed_ += size;
      pos_.offset += size;
      return std::optional<Record>(rec);
    }
    if (r == FrameResult::kIncomplete) {
      // Read what the writer added. Check for a next segment *before* re-reading so a
      // segment that was finished in between is read to its true end.
      std::error_code ec;
      bool finished = std::filesystem::exists(SegmentPath(dir_, pos_.segment + 1), ec);
      size_t before = buf_.size() - consumed_;
      Status st = Fill();
      if (!st.ok()) {
        // The segment may have been deleted by retention after we were told to resume
        // there; anything else is a real error.
        if (!std::filesystem::exists(SegmentPath(dir_, pos_.segment), ec) && finished) {
          damage_.push_back({pos_, 0, false, "segment deleted before it was read"});
          pos_ = {pos_.segment + 1, 0};
          buf_.clear();
          consumed_ = 0;
          continue;
        }
        return st;
      }
      if (buf_.size() - consumed_ > before) continue;
      if (!finished) return std::optional<Record>();
      if (buf_.size() > consumed_) {
        damage_.push_back({pos_, buf_.size() - consumed_, false, Describe(r)});
      }
    } else {
      damage_.push_back({pos_, buf_.size() - consumed_, false, Describe(r)});
      std::error_code ec;
      // In the segment still being written, a bad frame can only be damage too, but we
      // cannot skip past it until the writer moves on; report and wait.
      if (!std::filesystem::exists(SegmentPath(dir_, pos_.segment + 1), ec)) {
        damage_.pop_back();
        return Status::Corruption("WAL " + Damage{pos_, 0, false, Describe(r)}.ToString());
      }
    }
    pos_ = {pos_.segment + 1, 0};
    buf_.clear();
    consumed_ = 0;
  }
}

}  // namespace shardwise::tsdb::wal
