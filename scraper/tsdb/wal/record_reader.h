// RecordReader: reads the records of one paged file (a WAL segment or a checkpoint, see
// segment.h) from a record boundary, as a stream: it holds one page of the file and the
// record being assembled, never the whole file. The file may still be growing (the
// segment being written): at its end the reader reports kEnd or kIncomplete without
// consuming anything, and a later Next() picks up what was appended meanwhile.
//
// The file is opened at the first read and kept open until the reader is destroyed, so a
// reader following a growing segment costs one pread per poll, not an open and a close.
//
// Damage (a bad checksum, an impossible length or fragment order, non-zero padding)
// is reported as kCorrupt with damage_start() (the boundary of the record that was being
// read) and the reader moves on to the next page, skipping the middle and last fragments
// of records that began before it. One damaged fragment therefore costs at most the rest
// of its page (plus the record that spans it), not the rest of the file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace shardwise::tsdb::wal {

class RecordReader {
 public:
  RecordReader(std::string path, uint64_t offset) : path_(std::move(path)), offset_(offset) {}
  ~RecordReader();
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;

  enum class Outcome {
    kRecord,      // record() holds it; start() is its boundary, offset() the one after it
    kEnd,         // the file ends at offset(), a record boundary
    kIncomplete,  // the file ends inside the record starting at offset() (or its padding)
    kCorrupt,     // damage: see damage_start(); offset() is where reading resumes
  };
  // I/O errors (the file cannot be opened or read) are returned as a Status.
  Result<Outcome> Next();

  std::string_view record() const { return record_; }
  uint64_t start() const { return start_; }
  uint64_t offset() const { return offset_; }
  uint64_t damage_start() const { return damage_start_; }
  const std::string& damage_reason() const { return damage_reason_; }
  const std::string& path() const { return path_; }
  // Whether the file, open since the first read, has been deleted (it stays readable).
  bool Unlinked() const;

 private:
  Result<Outcome> Read();
  // Makes bytes [at, at + n) available in page_ if the file has them (n never crosses a
  // page); returns how many of them it has.
  Result<size_t> Ensure(uint64_t at, size_t n);
  const char* Bytes(uint64_t at) const { return page_.data() + (at - page_offset_); }
  Outcome Corrupt(uint64_t at, std::string reason);

  std::string path_;
  int fd_ = -1;
  uint64_t offset_;
  uint64_t start_ = 0;
  uint64_t damage_start_ = 0;
  std::string damage_reason_;
  bool resync_ = false;  // after damage: skip fragments that continue an earlier record
  std::string record_;
  std::string page_;  // bytes of the file from page_offset_
  uint64_t page_offset_ = 0;
};

}  // namespace shardwise::tsdb::wal
