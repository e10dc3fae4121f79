#include "scraper/tsdb/wal/record_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "scraper/tsdb/encoding.h"
#include "scraper/tsdb/wal/crc32c.h"
#include "scraper/tsdb/wal/segment.h"

namespace shardwise::tsdb::wal {

RecordReader::~RecordReader() {
  if (fd_ >= 0) ::close(fd_);
}

bool RecordReader::Unlinked() const {
  struct stat st;
  return fd_ >= 0 && ::fstat(fd_, &st) == 0 && st.st_nlink == 0;
}

Result<size_t> RecordReader::Ensure(uint64_t at, size_t n) {
  if (at >= page_offset_ && at + n <= page_offset_ + page_.size()) return n;
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return Status::IOError("open " + path_ + ": " + std::strerror(errno));
  }
  // Read from `at` to the end of its page: fragments never cross pages.
  const size_t to_page_end = kPageSize - at % kPageSize;
  SHARDWISE_RETURN_IF_ERROR(ReadFileRange(fd_, path_, at, to_page_end, &page_));
  page_offset_ = at;
  return std::min(n, page_.size());
}

RecordReader::Outcome RecordReader::Corrupt(uint64_t at, std::string reason) {
  damage_start_ = offset_;
  damage_reason_ = std::move(reason) + " at offset " + std::to_string(at);
  offset_ = at - at % kPageSize + kPageSize;
  resync_ = true;
  record_.clear();
  return Outcome::kCorrupt;
}

Result<RecordReader::Outcome> RecordReader::Next() {
  auto r = Read();
  if (r.ok() && (*r == Outcome::kEnd || *r == Outcome::kIncomplete)) {
    // The writer may cut back a failed write and write other bytes there: never parse
    // cached bytes from beyond the last consumed record again.
    page_.clear();
    page_offset_ = 0;
  }
  return r;
}

Result<RecordReader::Outcome> RecordReader::Read() {
  record_.clear();
  uint64_t at = offset_;
  bool in_record = false;
  for (;;) {
    const size_t left = kPageSize - at % kPageSize;
    if (left <= kFragmentHeaderSize) {
      auto got = Ensure(at, left);
      if (!got.ok()) return got.status();
      if (*got < left) return *got == 0 && at == offset_ ? Outcome::kEnd : Outcome::kIncomplete;
      const char* p = Bytes(at);
      if (std::any_of(p, p + left, [](char c) { return c != 0; })) {
        return Corrupt(at, "non-zero page padding");
      }
      at += left;
      continue;
    }
    auto got = Ensure(at, kFragmentHeaderSize);
    if (!got.ok()) return got.status();
    if (*got == 0) return !in_record && at == offset_ ? Outcome::kEnd : Outcome::kIncomplete;
    const uint8_t type = static_cast<uint8_t>(*Bytes(at));
    if (type == static_cast<uint8_t>(FragmentType::kPadding)) {
      got = Ensure(at, left);
      if (!got.ok()) return got.status();
      if (*got < left) return Outcome::kIncomplete;
      const char* p = Bytes(at);
      if (std::any_of(p, p + left, [](char c) { return c != 0; })) {
        return Corrupt(at, "non-zero page padding");
      }
      if (in_record) return Corrupt(at, "padding inside a record");
      at += left;
      continue;
    }
    if (*got < kFragmentHeaderSize) return Outcome::kIncomplete;
    char header[kFragmentHeaderSize];
    std::memcpy(header, Bytes(at), kFragmentHeaderSize);
    const char* h = header;
    const size_t length =
        static_cast<uint8_t>(h[1]) | static_cast<size_t>(static_cast<uint8_t>(h[2])) << 8;
    const uint32_t crc = DecodeFixed32(h + 3);
    if (type > static_cast<uint8_t>(FragmentType::kLast))
      return Corrupt(at, "unknown fragment type");
    if (length == 0 || length > left - kFragmentHeaderSize) {
      return Corrupt(at, "impossible fragment length");
    }
    const auto t = static_cast<FragmentType>(type);
    const bool continues = t == FragmentType::kMiddle || t == FragmentType::kLast;
    if (continues && !in_record && resync_) {
      // The tail of a record whose start was lost with a damaged page: skip it whole.
      got = Ensure(at, kFragmentHeaderSize + length);
      if (!got.ok()) return got.status();
      if (*got < kFragmentHeaderSize + length) return Outcome::kIncomplete;
      at += kFragmentHeaderSize + length;
      offset_ = at;
      continue;
    }
    if (continues != in_record) return Corrupt(at, "fragment out of sequence");
    got = Ensure(at, kFragmentHeaderSize + length);
    if (!got.ok()) return got.status();
    if (*got < kFragmentHeaderSize + length) return Outcome::kIncomplete;
    if (std::memcmp(Bytes(at), header, kFragmentHeaderSize) != 0) continue;  // re-read: parse again
    const char* payload = Bytes(at) + kFragmentHeaderSize;
    if (Crc32c(payload, length) != crc) return Corrupt(at, "checksum mismatch");
    if (!in_record) start_ = offset_;
    record_.append(payload, length);
    if (record_.size() > kMaxRecordSize) return Corrupt(at, "record too large");
    at += kFragmentHeaderSize + length;
    if (t == FragmentType::kFull || t == FragmentType::kLast) {
      offset_ = at;
      resync_ = false;
      return Outcome::kRecord;
    }
    in_record = true;
  }
}

}  // namespace shardwise::tsdb::wal
