#include "scraper/remotewrite/cursor.h"

#include <fcntl.h>
#include <fmt/format.h>
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

Result<std::optional<WalPosition>> LoadCursor(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    if (!std::filesystem::exists(path)) return std::optional<WalPosition>();
    return Status::IOError("cannot read cursor " + path);
  }
  std::string magic, body, sum_line;
  std::getline(in, magic);
  std::getline(in, body);
  std::getline(in, sum_line);
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
  std::string body = fmt::format("{} {}", pos.segment, pos.offset);
  std::string content = fmt::format("{}\n{}\n{:08x}\n", kMagic, body, Checksum(body));
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create", tmp);
  Status st = WriteAll(fd, content, tmp);
  if (st.ok() && ::fsync(fd) != 0) st = ErrnoStatus("fsync", tmp);
  ::close(fd);
  if (!st.ok()) return st;
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoStatus("rename", tmp);
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return ErrnoStatus("open dir", dir);
  int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) return ErrnoStatus("fsync dir", dir);
  return Status::OK();
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
