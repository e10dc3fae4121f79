// WAL on-disk layout. A WAL is a directory of segment files named by an 8-digit, zero-
// padded decimal index ("00000000", "00000001", ...). A segment is a sequence of 32 KiB
// pages (the last one may be short); records are cut into fragments that never cross a
// page boundary, each framed as:
//
//   type    u8                  1 full, 2 first, 3 middle, 4 last (0: zero padding)
//   length  u16 little-endian   fragment payload bytes (> 0)
//   crc     u32 little-endian   CRC32C of the fragment payload
//   payload length bytes
//
// When fewer than kFragmentHeaderSize + 1 bytes are left in a page, the rest of the page is
// zero padding and the next fragment starts on the next page. Because every page starts
// at a fragment boundary, a damaged fragment (a flipped length, a bad checksum) costs the
// rest of its page and the record it belongs to, never the rest of the segment: readers
// resynchronise at the next page. The same layout is used for checkpoints.
//
// A record never spans two segments. A Position names a byte offset in a segment; the
// record boundaries (the offset just past a record) are what WAL consumers acknowledge.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace shardwise::tsdb::wal {

inline constexpr size_t kPageSize = 32 * 1024;
inline constexpr size_t kFragmentHeaderSize = 7;
// Guards against a damaged chain of fragments growing without bound.
inline constexpr uint32_t kMaxRecordSize = 256u << 20;

enum class FragmentType : uint8_t { kPadding = 0, kFull = 1, kFirst = 2, kMiddle = 3, kLast = 4 };

struct Position {
  uint32_t segment = 0;
  uint64_t offset = 0;
  auto operator<=>(const Position&) const = default;
  std::string ToString() const;
};

std::string SegmentName(uint32_t index);
std::string SegmentPath(std::string_view dir, uint32_t index);
// Segment indexes present in `dir`, ascending. Files that are not segments are ignored.
Result<std::vector<uint32_t>> ListSegments(std::string_view dir);
// Parses "00000012" -> 12; false for anything else.
bool ParseSegmentName(std::string_view name, uint32_t* index);

// Appends `payload` as one record (padding and fragments) to `out`, whose first byte goes
// to file offset `offset`.
void AppendRecord(std::string* out, uint64_t offset, std::string_view payload);

// Reads up to `n` bytes at `offset` of a file into `out` (fewer at the end of the file).
Status ReadFileRange(const std::string& path, uint64_t offset, size_t n, std::string* out);
// The same from an open descriptor of `path` (named in errors).
Status ReadFileRange(int fd, const std::string& path, uint64_t offset, size_t n, std::string* out);
Result<uint64_t> FileSize(const std::string& path);
Status SyncDir(const std::string& dir);

}  // namespace shardwise::tsdb::wal
