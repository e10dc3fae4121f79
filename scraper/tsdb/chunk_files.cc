#include "scraper/tsdb/chunk_files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace shardwise::tsdb {

Result<std::unique_ptr<ChunkFiles>> ChunkFiles::Open(std::string dir, uint64_t file_size) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);  // a cache of the WAL: replay writes it again
  if (ec) return Status::IOError("remove " + dir + ": " + ec.message());
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("create " + dir + ": " + ec.message());
  file_size = std::max<uint64_t>(file_size, 4096);
  file_size = std::min<uint64_t>(file_size, uint64_t{1} << 31);  // offsets are 32-bit
  std::unique_ptr<ChunkFiles> files(new ChunkFiles(std::move(dir), file_size));
  return files;
}

ChunkFiles::~ChunkFiles() {
  for (auto& [n, f] : files_) Close(f);
}

void ChunkFiles::Close(File& f) {
  if (f.map) munmap(const_cast<char*>(f.map), f.map_size);
  if (f.fd >= 0) close(f.fd);
  f.map = nullptr;
  f.fd = -1;
}

std::string ChunkFiles::PathOf(uint32_t n) const {
  char name[16];
  std::snprintf(name, sizeof name, "%06u", n);
  return dir_ + "/" + name;
}

Status ChunkFiles::NewFileLocked() {
  const uint32_t n = next_file_;
  const std::string path = PathOf(n);
  File f;
  f.fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (f.fd < 0) return Status::IOError("open " + path + ": " + std::strerror(errno));
  void* map = mmap(nullptr, file_size_, PROT_READ, MAP_SHARED, f.fd, 0);
  if (map == MAP_FAILED) {
    const int err = errno;
    close(f.fd);
    return Status::IOError("mmap " + path + ": " + std::strerror(err));
  }
  f.map = static_cast<const char*>(map);
  f.map_size = file_size_;
  ++next_file_;
  files_.emplace(n, f);
  return Status::OK();
}

Result<ChunkLocation> ChunkFiles::Write(std::string_view chunk, int64_t maxt) {
  std::lock_guard lock(mu_);
  if (chunk.size() > file_size_) return Status::InvalidArgument("chunk larger than a chunk file");
  if (files_.empty() || files_.rbegin()->second.size + chunk.size() > file_size_) {
    SHARDWISE_RETURN_IF_ERROR(NewFileLocked());
  }
  auto& [n, f] = *files_.rbegin();
  size_t done = 0;
  while (done < chunk.size()) {
    ssize_t w =
        ::pwrite(f.fd, chunk.data() + done, chunk.size() - done, static_cast<off_t>(f.size + done));
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::IOError("write chunk file " + PathOf(n) + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(w);
  }
  ChunkLocation loc{n, static_cast<uint32_t>(f.size), static_cast<uint32_t>(chunk.size())};
  f.size += chunk.size();
  f.max_t = std::max(f.max_t, maxt);
  return loc;
}

std::string_view ChunkFiles::Read(const ChunkLocation& loc) const {
  std::lock_guard lock(mu_);
  auto it = files_.find(loc.file);
  if (it == files_.end() || uint64_t{loc.offset} + loc.size > it->second.size) return {};
  return {it->second.map + loc.offset, loc.size};
}

size_t ChunkFiles::DeleteBefore(int64_t cutoff) {
  std::lock_guard lock(mu_);
  size_t deleted = 0;
  while (files_.size() > 1 && files_.begin()->second.max_t < cutoff) {
    auto it = files_.begin();
    Close(it->second);
    std::error_code ec;
    std::filesystem::remove(PathOf(it->first), ec);
    files_.erase(it);
    ++deleted;
  }
  return deleted;
}

uint64_t ChunkFiles::BytesOnDisk() const {
  std::lock_guard lock(mu_);
  uint64_t total = 0;
  for (const auto& [n, f] : files_) total += f.size;
  return total;
}

size_t ChunkFiles::files() const {
  std::lock_guard lock(mu_);
  return files_.size();
}

}  // namespace shardwise::tsdb
