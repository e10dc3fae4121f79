#include "scraper/tsdb/wal/segment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "scraper/tsdb/encoding.h"
#include "scraper/tsdb/wal/crc32c.h"

namespace shardwise::tsdb::wal {

std::string Position::ToString() const {
  return SegmentName(segment) + "@" + std::to_string(offset);
}

std::string SegmentName(uint32_t index) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08u", index);
  return buf;
}

std::string SegmentPath(std::string_view dir, uint32_t index) {
  return std::string(dir) + "/" + SegmentName(index);
}

bool ParseSegmentName(std::string_view name, uint32_t* index) {
  if (name.size() != 8) return false;
  uint64_t v = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) return false;
  *index = static_cast<uint32_t>(v);
  return true;
}

Result<std::vector<uint32_t>> ListSegments(std::string_view dir) {
  std::vector<uint32_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    uint32_t index;
    if (entry.is_regular_file() && ParseSegmentName(entry.path().filename().string(), &index)) {
      out.push_back(index);
    }
  }
  if (ec) return Status::IOError("list WAL dir " + std::string(dir) + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

void AppendFrame(std::string* out, std::string_view payload) {
  PutFixed32(out, static_cast<uint32_t>(payload.size()));
  PutFixed32(out, Crc32c(payload));
  out->append(payload);
}

FrameResult ParseFrame(std::string_view in, std::string_view* payload, size_t* frame_size) {
  if (in.size() < kRecordHeaderSize) return FrameResult::kIncomplete;
  uint32_t length = DecodeFixed32(in.data());
  uint32_t crc = DecodeFixed32(in.data() + 4);
  if (length == 0 || length > kMaxRecordSize) return FrameResult::kCorrupt;
  if (in.size() - kRecordHeaderSize < length) return FrameResult::kIncomplete;
  std::string_view body = in.substr(kRecordHeaderSize, length);
  if (Crc32c(body) != crc) return FrameResult::kCorrupt;
  *payload = body;
  *frame_size = kRecordHeaderSize + length;
  return FrameResult::kRecord;
}

Result<std::string> ReadFileFrom(const std::string& path, uint64_t offset) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("open " + path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Status::IOError("stat " + path + ": " + std::strerror(errno));
  }
  std::string out;
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (offset < size) out.resize(size - offset);
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return Status::IOError("read " + path + ": " + std::strerror(errno));
    }
    if (n == 0) break;  // the file shrank under us
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  ::close(fd);
  return out;
}

Result<uint64_t> FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Status::IOError("stat " + path + ": " + std::strerror(errno));
  }
  return static_cast<uint64_t>(st.st_size);
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("open dir " + dir + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::IOError("fsync dir " + dir + ": " + std::strerror(errno));
  return Status::OK();
}

}  // namespace shardwise::tsdb::wal
