#include "scraper/tsdb/checkpoint.h"

#include <fcntl.h>
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
    wal::AppendFrame(&buf, payload);
  }
  int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("create " + tmp_path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t w = ::write(fd, buf.data() + done, buf.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      std::string err = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp_path.c_str());
      return Status::IOError("write " + tmp_path + ": " + err);
    }
    done += static_cast<size_t>(w);
  }
  if (::fdatasync(fd) != 0) {
    std::string err = std::strerror(errno);
    ::close(fd);
    ::unlink(tmp_path.c_str());
    return Status::IOError("fsync " + tmp_path + ": " + err);
  }
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
