// Writer appends paged records to the WAL's newest segment, starting a new segment when
// a batch would overflow the size limit (a batch larger than the limit gets a segment of
// its own). Opening a Writer always starts a fresh segment after the last existing one,
// so a repaired (truncated) tail is never appended to. A write that fails after writing
// part of a batch is cut back and the segment is closed, so no later record lands at
// offsets a reader may already have looked at. Not thread-safe: the DB serialises
// writes. Sync() makes everything written so far durable; the previous segment is synced
// when a new one is started.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "scraper/tsdb/wal/segment.h"

namespace shardwise::tsdb::wal {

class Writer {
 public:
  struct Options {
    uint64_t segment_size = 32ull << 20;
  };

  static Result<std::unique_ptr<Writer>> Open(std::string dir, Options options);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Writes every payload as one record, all in one write() into one segment. On
  // success `*start` (if given) is the position of the first record.
  Status Write(const std::vector<std::string_view>& payloads, Position* start = nullptr);
  Status Write(std::string_view payload, Position* start = nullptr) {
    return Write(std::vector<std::string_view>{payload}, start);
  }
  Status Sync();
  // A duplicate of the current segment's descriptor, so a background thread can fsync
  // without holding the writer's lock. Caller closes it.
  int DupFd() const;
  // Closes the current segment and starts the next one.
  Status NextSegment();

  // The position just past the last written record.
  Position End() const { return {segment_, offset_}; }
  uint64_t bytes_written() const { return bytes_written_; }
  // Whether the last failed Write/Sync failed for lack of space (ENOSPC, EDQUOT).
  bool last_error_no_space() const { return last_error_no_space_; }
  const std::string& dir() const { return dir_; }

 private:
  Writer(std::string dir, Options options) : dir_(std::move(dir)), options_(options) {}
  Status OpenSegment(uint32_t index);

  std::string dir_;
  Options options_;
  int fd_ = -1;
  uint32_t segment_ = 0;
  uint64_t offset_ = 0;
  uint64_t bytes_written_ = 0;
  bool last_error_no_space_ = false;
  std::string buf_;
};

}  // namespace shardwise::tsdb::wal
