#include "scraper/tsdb/wal/writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace shardwise::tsdb::wal {
namespace {

bool IsNoSpace(int err) { return err == ENOSPC || err == EDQUOT; }

Status WriteAll(int fd, const char* p, size_t n, const std::string& what, int* err,
                size_t* written) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      *err = errno;
      return Status::IOError("write " + what + ": " + std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
    *written += static_cast<size_t>(w);
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<Writer>> Writer::Open(std::string dir, Options options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("create WAL dir " + dir + ": " + ec.message());
  auto segments = ListSegments(dir);
  if (!segments.ok()) return segments.status();
  uint32_t next = segments->empty() ? 0 : segments->back() + 1;
  std::unique_ptr<Writer> w(new Writer(std::move(dir), options));
  SHARDWISE_RETURN_IF_ERROR(w->OpenSegment(next));
  return w;
}

Writer::~Writer() {
  if (fd_ >= 0) {
    ::fdatasync(fd_);
    ::close(fd_);
  }
}

Status Writer::OpenSegment(uint32_t index) {
  std::string path = SegmentPath(dir_, index);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("create segment " + path + ": " + std::strerror(errno));
  fd_ = fd;
  segment_ = index;
  offset_ = 0;
  return SyncDir(dir_);
}

Status Writer::NextSegment() {
  if (fd_ >= 0) {
    if (::fdatasync(fd_) != 0) {
      return Status::IOError("fsync segment " + SegmentName(segment_) + ": " +
                             std::strerror(errno));
    }
    ::close(fd_);
    fd_ = -1;
  }
  return OpenSegment(segment_ + 1);
}

Status Writer::Write(const std::vector<std::string_view>& payloads, Position* start) {
  for (auto p : payloads) {
    if (p.empty() || p.size() > kMaxRecordSize) {
      return Status::InvalidArgument("WAL record of " + std::to_string(p.size()) + " bytes");
    }
  }
  // Fragmenting depends on where the batch starts, so it is laid out for the segment
  // it goes to.
  auto layout = [&](uint64_t at) {
    buf_.clear();
    for (auto p : payloads) AppendRecord(&buf_, at, p);
  };
  layout(offset_);
  // fd_ < 0: opening the next segment failed earlier (no space for a new file).
  if (fd_ < 0 || (offset_ > 0 && offset_ + buf_.size() > options_.segment_size)) {
    Status cut = NextSegment();
    if (!cut.ok()) {
      last_error_no_space_ = IsNoSpace(errno);
      return cut;
    }
    layout(0);
  }
  if (start) *start = End();
  int err = 0;
  size_t written = 0;
  Status st = WriteAll(fd_, buf_.data(), buf_.size(), SegmentPath(dir_, segment_), &err, &written);
  last_error_no_space_ = IsNoSpace(err);
  if (!st.ok()) {
    // Never leave a half-written batch in front of later ones: cut back to the last good
    // record. A reader may already have seen part of it, so nothing new is ever written
    // at those offsets again: the segment ends here and the next batch starts a new one.
    if (written > 0) {
      [[maybe_unused]] int rc = ::ftruncate(fd_, static_cast<off_t>(offset_));
      [[maybe_unused]] off_t pos = ::lseek(fd_, static_cast<off_t>(offset_), SEEK_SET);
      NextSegment();
    }
    return st;
  }
  offset_ += buf_.size();
  bytes_written_ += buf_.size();
  return Status::OK();
}

Status Writer::Sync() {
  if (::fdatasync(fd_) != 0) {
    last_error_no_space_ = IsNoSpace(errno);
    return Status::IOError("fsync segment " + SegmentName(segment_) + ": " + std::strerror(errno));
  }
  return Status::OK();
}

int Writer::DupFd() const { return ::fcntl(fd_, F_DUPFD_CLOEXEC, 0); }

}  // namespace shardwise::tsdb::wal
