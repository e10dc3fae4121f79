// Reading the WAL back: Replay() for recovery on open, Tailer for consumers that follow
// the log while it is written (remote write).
//
// Replay reads segments in order, as streams (one page and one record in memory), and
// hands every intact record to a callback. Damage is never fatal: a damaged page costs
// that page (reading resumes at the next one, see record_reader.h); damage at the end of
// the last segment with nothing readable after it is a torn tail (a crash mid-write, or
// bytes that never reached the disk), so the segment is truncated at the last good
// record. The report says exactly what was lost.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "scraper/tsdb/wal/record_reader.h"
#include "scraper/tsdb/wal/segment.h"

namespace shardwise::tsdb::wal {

struct Damage {
  Position at;          // where the first unreadable byte is
  uint64_t lost_bytes;  // bytes from `at` to the end of that segment
  bool torn_tail;       // true: last segment, truncated; false: mid-log corruption, skipped
  std::string reason;
  std::string ToString() const;
};

struct ReplayReport {
  uint64_t records = 0;
  uint64_t bytes = 0;
  std::vector<uint32_t> segments;  // replayed, ascending
  std::vector<Damage> damage;
};

using RecordFn = std::function<Status(Position at, std::string_view payload)>;

struct ReplayOptions {
  uint32_t first_segment = 0;  // segments below this are skipped
  bool repair = true;          // truncate a torn tail in the last segment
};

// Replays every segment >= first_segment in `dir`. Fails only on I/O errors or when `fn`
// fails; damage is reported in the result.
Result<ReplayReport> Replay(const std::string& dir, const ReplayOptions& options,
                            const RecordFn& fn);

// Reads every record of one paged file (a segment or a checkpoint), streaming. Any damage
// is an error: checkpoints are written whole and renamed into place, so they cannot be
// torn.
Status ReadAllRecords(const std::string& path, const std::function<Status(std::string_view)>& fn);

// Follows the WAL from a position (a record boundary). Next() returns the next complete
// record, or nullopt when the writer has not produced one yet (poll again later, e.g.
// after DB::WaitForWal). When a segment is finished (a later one exists) the tailer moves
// on; damage is reported through damage() and skipped (to the next page, or past an
// incomplete record at the end of a finished segment).
class Tailer {
 public:
  Tailer(std::string dir, Position start) : dir_(std::move(dir)), pos_(start) {}

  struct Record {
    Position at;
    std::string_view payload;  // valid until the next call to Next()
  };
  Result<std::optional<Record>> Next();
  // Position of the next record to be returned; acknowledge this after processing.
  Position position() const { return pos_; }
  const std::vector<Damage>& damage() const { return damage_; }

 private:
  std::string dir_;
  Position pos_;
  std::unique_ptr<RecordReader> reader_;  // over segment pos_.segment
  std::vector<Damage> damage_;
};

}  // namespace shardwise::tsdb::wal
