#include "scraper/remotewrite/cursor.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/labels.h"

namespace shardwise::remotewrite {
namespace {

constexpr std::string_view kMagic = "shardwise-remote-write-cursor v1";

uint32_t Checksum(std::string_view s) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

Status ErrnoStatus(std::string_view what, const std::string& path) {
  return Status::IOError(fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("write", path);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

}  // namespace

namespace {

constexpr std::string_view kMagicV2 = "shardwise-remote-write-cursor v2";
constexpr size_t kSlotSize = 256;
constexpr size_t kFileSize = 2 * kSlotSize;

struct Slot {
  uint64_t seq = 0;
  WalPosition pos;
};

std::string EncodeSlot(uint64_t seq, WalPosition pos) {
  std::string body = fmt::format("{} {} {} {}", kMagicV2, seq, pos.segment, pos.offset);
  std::string slot = fmt::format("{} {:08x}\n", body, Checksum(body));
  slot.resize(kSlotSize, '\0');
  return slot;
}

std::optional<Slot> DecodeSlot(std::string_view slot) {
  size_t nl = slot.find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  std::string line(slot.substr(0, nl));
  size_t sp = line.rfind(' ');
  if (sp == std::string::npos) return std::nullopt;
  std::string body = line.substr(0, sp);
  unsigned sum = 0;
  if (std::sscanf(line.c_str() + sp + 1, "%x", &sum) != 1 || sum != Checksum(body)) {
    return std::nullopt;
  }
  if (!body.starts_with(kMagicV2)) return std::nullopt;
  unsigned long long seq = 0, segment = 0, offset = 0;
  if (std::sscanf(body.c_str() + kMagicV2.size(), "%llu %llu %llu", &seq, &segment, &offset) != 3 ||
      segment > UINT32_MAX) {
    return std::nullopt;
  }
  return Slot{seq, {static_cast<uint32_t>(segment), offset}};
}

// The newest valid slot of a v2 file's contents.
std::optional<Slot> NewestSlot(std::string_view content) {
  std::optional<Slot> best;
  for (size_t i = 0; i + kSlotSize <= content.size() && i < kFileSize; i += kSlotSize) {
    auto slot = DecodeSlot(content.substr(i, kSlotSize));
    if (slot && (!best || slot->seq > best->seq)) best = slot;
  }
  return best;
}

Status SyncParentDir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return ErrnoStatus("open dir", dir);
  int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) return ErrnoStatus("fsync dir", dir);
  return Status::OK();
}

}  // namespace

Result<std::optional<WalPosition>> LoadCursor(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) return std::optional<WalPosition>();
    return Status::IOError("cannot read cursor " + path);
  }
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (content.size() == kFileSize) {
    auto slot = NewestSlot(content);
    if (!slot) return Status::Corruption("cursor file " + path + " is damaged");
    return std::optional<WalPosition>(slot->pos);
  }
  // Version 1: magic, "segment offset", checksum, one per line.
  std::istringstream lines(content);
  std::string magic, body, sum_line;
  std::getline(lines, magic);
  std::getline(lines, body);
  std::getline(lines, sum_line);
  unsigned long long segment = 0, offset = 0;
  unsigned sum = 0;
  if (magic != kMagic || std::sscanf(body.c_str(), "%llu %llu", &segment, &offset) != 2 ||
      std::sscanf(sum_line.c_str(), "%x", &sum) != 1 || sum != Checksum(body) ||
      segment > UINT32_MAX) {
    return Status::Corruption("cursor file " + path + " is damaged");
  }
  return std::optional<WalPosition>(WalPosition{static_cast<uint32_t>(segment), offset});
}

Status StoreCursor(const std::string& path, WalPosition pos) {
  // In place: the older of the two slots of the preallocated file is overwritten, so a
  // torn write leaves the other one, and no free space is ever needed.
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    std::string content(kFileSize, '\0');
    ssize_t n = ::pread(fd, content.data(), kFileSize, 0);
    struct stat st;
    if (n == static_cast<ssize_t>(kFileSize) && ::fstat(fd, &st) == 0 &&
        st.st_size == static_cast<off_t>(kFileSize)) {
      auto newest = NewestSlot(content);
      uint64_t seq = newest ? newest->seq + 1 : 1;
      // Slot 0 holds even sequence numbers, slot 1 odd ones.
      std::string slot = EncodeSlot(seq, pos);
      off_t at = static_cast<off_t>((seq % 2) * kSlotSize);
      Status result = Status::OK();
      size_t done = 0;
      while (result.ok() && done < slot.size()) {
        ssize_t w =
            ::pwrite(fd, slot.data() + done, slot.size() - done, at + static_cast<off_t>(done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
          result = ErrnoStatus("write", path);
        } else {
          done += static_cast<size_t>(w);
        }
      }
      if (result.ok() && ::fdatasync(fd) != 0) result = ErrnoStatus("fsync", path);
      ::close(fd);
      return result;
    }
    ::close(fd);
  }
  // First store (or a version 1 file): create the preallocated file atomically. Slot 0
  // keeps the magic at the start of the file; this cursor goes to slot 1.
  std::string content = EncodeSlot(0, pos) + EncodeSlot(1, pos);
  std::string tmp = path + ".tmp";
  fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create", tmp);
  Status st = WriteAll(fd, content, tmp);
  if (st.ok() && ::fsync(fd) != 0) st = ErrnoStatus("fsync", tmp);
  ::close(fd);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoStatus("rename", tmp);
  return SyncParentDir(path);
}

std::string CursorPath(const std::string& dir, const std::string& endpoint_name) {
  std::string safe;
  bool changed = false;
  for (char c : endpoint_name) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    safe += ok ? c : '_';
    changed |= !ok;
  }
  if (changed || safe.empty() || safe[0] == '.') {
    // Two names that sanitise alike must not share a file.
    safe += fmt::format("-{:08x}", Labels{{"n", endpoint_name}}.Hash() & 0xffffffff);
  }
  return (std::filesystem::path(dir) / (safe + ".cursor")).string();
}

}  // namespace shardwise::remotewrite
