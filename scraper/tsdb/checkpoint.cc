#include "scraper/tsdb/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <span>

#include "scraper/tsdb/wal/reader.h"
#include "scraper/tsdb/wal/segment.h"

namespace shardwise::tsdb {
namespace {

constexpr std::string_view kPrefix = "checkpoint.";
constexpr size_t kSeriesPerRecord = 4096;

bool ParseCheckpointName(std::string_view name, uint32_t* last) {
  if (name.substr(0, kPrefix.size()) != kPrefix) return false;
  return wal::ParseSegmentName(name.substr(kPrefix.size()), last);
}

}  // namespace

std::string CheckpointName(uint32_t last_segment) {
  return std::string(kPrefix) + wal::SegmentName(last_segment);
}

Result<std::optional<CheckpointRef>> LatestCheckpoint(const std::string& wal_dir) {
  std::optional<CheckpointRef> best;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(wal_dir, ec)) {
    uint32_t last;
    if (!entry.is_regular_file() || !ParseCheckpointName(entry.path().filename().string(), &last)) {
      continue;
    }
    if (!best || last > best->last_segment) best = CheckpointRef{entry.path().string(), last};
  }
  if (ec) return Status::IOError("list " + wal_dir + ": " + ec.message());
  return best;
}

std::string CheckpointReservePath(const std::string& wal_dir) {
  return wal_dir + "/checkpoint.reserve";
}

Status EnsureCheckpointReserve(const std::string& wal_dir, uint64_t bytes) {
  const std::string path = CheckpointReservePath(wal_dir);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("create " + path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) >= bytes) {
    ::close(fd);
    return Status::OK();
  }
  const off_t old_size = ::fstat(fd, &st) == 0 ? st.st_size : 0;
  int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  if (rc == 0) rc = ::fdatasync(fd) == 0 ? 0 : errno;
  if (rc != 0) {
    // Keep what was reserved before; the next pass tries again.
    [[maybe_unused]] int ignored = ::ftruncate(fd, old_size);
    ::close(fd);
    return Status::IOError("reserve " + std::to_string(bytes) + " bytes in " + path + ": " +
                           std::strerror(rc));
  }
  ::close(fd);
  return Status::OK();
}

Status WriteCheckpoint(const std::string& wal_dir, uint32_t last_segment,
                       const std::vector<SeriesRecord>& series) {
  std::string final_path = wal_dir + "/" + CheckpointName(last_segment);
  std::string tmp_path = final_path + ".tmp";
  std::string buf;
  std::string payload;
  for (size_t i = 0; i < series.size(); i += kSeriesPerRecord) {
    payload.clear();
    size_t n = std::min(kSeriesPerRecord, series.size() - i);
    EncodeSeries(std::span<const SeriesRecord>(series).subspan(i, n), &payload);
    wal::AppendRecord(&buf, 0, payload);
  }
  // Written into the reserve when it is big enough: overwriting preallocated blocks
  // needs no free space.
  const std::string reserve = CheckpointReservePath(wal_dir);
  auto reserved = wal::FileSize(reserve);
  const bool in_reserve = reserved.ok() && *reserved >= buf.size() &&
                          std::rename(reserve.c_str(), tmp_path.c_str()) == 0;
  int fd =
      ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | (in_reserve ? 0 : O_TRUNC) | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("create " + tmp_path + ": " + std::strerror(errno));
  auto fail = [&](const char* what) {
    std::string err = std::strerror(errno);
    ::close(fd);
    ::unlink(tmp_path.c_str());
    return Status::IOError(std::string(what) + " " + tmp_path + ": " + err);
  };
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t w = ::pwrite(fd, buf.data() + done, buf.size() - done, static_cast<off_t>(done));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return fail("write");
    done += static_cast<size_t>(w);
  }
  if (::ftruncate(fd, static_cast<off_t>(buf.size())) != 0) return fail("truncate");
  if (::fdatasync(fd) != 0) return fail("fsync");
  ::close(fd);
  if (std::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    return Status::IOError("rename " + tmp_path + ": " + std::strerror(errno));
  }
  SHARDWISE_RETURN_IF_ERROR(wal::SyncDir(wal_dir));
  // Older checkpoints and stray temporaries are now redundant.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(wal_dir, ec)) {
    std::string name = entry.path().filename().string();
    uint32_t last;
    bool older = ParseCheckpointName(name, &last) && last < last_segment;
    bool stray = name.starts_with(kPrefix) && name.ends_with(".tmp");
    if (older || stray) std::filesystem::remove(entry.path(), ec);
  }
  return Status::OK();
}

Status ReadCheckpoint(const std::string& path, std::vector<SeriesRecord>* out) {
  return wal::ReadAllRecords(path, [&](std::string_view payload) {
    if (PeekRecordType(payload) != RecordType::kSeries) {
      return Status::Corruption(path + ": unexpected record type in checkpoint");
    }
    return DecodeSeries(payload, out);
  });
}

}  // namespace shardwise::tsdb
