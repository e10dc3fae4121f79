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

void AppendRecord(std::string* out, uint64_t offset, std::string_view payload) {
  uint64_t at = offset + out->size();
  bool first = true;
  for (;;) {
    const size_t left = kPageSize - at % kPageSize;
    if (left <= kFragmentHeaderSize) {
      out->append(left, '\0');
      at += left;
      continue;
    }
    const size_t n = std::min(payload.size(), left - kFragmentHeaderSize);
    const bool last = n == payload.size();
    FragmentType type = first ? (last ? FragmentType::kFull : FragmentType::kFirst)
                              : (last ? FragmentType::kLast : FragmentType::kMiddle);
    out->push_back(static_cast<char>(type));
    out->push_back(static_cast<char>(n & 0xFF));
    out->push_back(static_cast<char>(n >> 8));
    PutFixed32(out, Crc32c(payload.data(), n));
    out->append(payload.substr(0, n));
    at += kFragmentHeaderSize + n;
    payload.remove_prefix(n);
    first = false;
    if (last) return;
  }
}

Status ReadFileRange(int fd, const std::string& path, uint64_t offset, size_t n, std::string* out) {
  out->resize(n);
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, out->data() + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      std::string err = std::strerror(errno);
      out->clear();
      return Status::IOError("read " + path + ": " + err);
    }
    if (r == 0) break;  // end of file
    done += static_cast<size_t>(r);
  }
  out->resize(done);
  return Status::OK();
}

Status ReadFileRange(const std::string& path, uint64_t offset, size_t n, std::string* out) {
  out->clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("open " + path + ": " + std::strerror(errno));
  Status st = ReadFileRange(fd, path, offset, n, out);
  ::close(fd);
  return st;
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
