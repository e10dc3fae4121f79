// WAL on-disk layout. A WAL is a directory of segment files named by an 8-digit, zero-
// padded decimal index ("00000000", "00000001", ...). Each segment is a sequence of
// records framed as:
//
//   length  u32 little-endian   payload byte count (> 0)
//   crc     u32 little-endian   CRC32C of the payload
//   payload length bytes
//
// A record never spans two segments. A Position names a byte offset in a segment; the
// positions of record starts are what WAL consumers acknowledge.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace shardwise::tsdb::wal {

inline constexpr size_t kRecordHeaderSize = 8;
// Guards against a corrupt length asking for gigabytes.
inline constexpr uint32_t kMaxRecordSize = 256u << 20;

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

// Appends one framed record to `out`.
void AppendFrame(std::string* out, std::string_view payload);

enum class FrameResult { kRecord, kIncomplete, kCorrupt };
// Parses the frame at the start of `in`. kIncomplete: `in` ends inside the frame (a torn
// tail, or a record still being written). kCorrupt: bad CRC or impossible length.
FrameResult ParseFrame(std::string_view in, std::string_view* payload, size_t* frame_size);

// Reads bytes [offset, end of file) of a file.
Result<std::string> ReadFileFrom(const std::string& path, uint64_t offset);
Result<uint64_t> FileSize(const std::string& path);
Status SyncDir(const std::string& dir);

}  // namespace shardwise::tsdb::wal
