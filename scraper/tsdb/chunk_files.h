// ChunkFiles: the head's sealed chunks on disk, so that a long head does not hold them in
// anonymous memory (Prometheus keeps its chunks_head files the same way).
//
// Sealed chunks are appended to numbered files in one directory (<db>/chunks_head/000001,
// ...); a chunk is known by a ChunkLocation (file number, offset, size). Writes go through
// the page cache (pwrite, no fsync: the WAL is what makes data durable), and reads map the
// file read-only, so chunk bytes count as reclaimable page cache, not as the process's
// heap. A file is rolled over at `file_size`; DeleteBefore() removes whole files whose
// newest chunk is older than a cutoff (retention), never the file being written.
//
// The files are a cache of what the WAL holds: Open() deletes what an earlier process
// left, and replaying the WAL writes the chunks again.
//
// Thread-safety: all methods may be called concurrently. A Read() must not race with
// the DeleteBefore() that removes its chunk's file: the head drops its references to a
// chunk (under the series' lock) before it deletes the files.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/status.h"

namespace shardwise::tsdb {

struct ChunkLocation {
  uint32_t file = 0;  // 0: none
  uint32_t offset = 0;
  uint32_t size = 0;
};

class ChunkFiles {
 public:
  static constexpr uint64_t kDefaultFileSize = 64ull << 20;

  // Creates (or empties) `dir`.
  static Result<std::unique_ptr<ChunkFiles>> Open(std::string dir,
                                                  uint64_t file_size = kDefaultFileSize);
  ~ChunkFiles();
  ChunkFiles(const ChunkFiles&) = delete;
  ChunkFiles& operator=(const ChunkFiles&) = delete;

  // Appends one sealed chunk whose newest sample is at `maxt`.
  Result<ChunkLocation> Write(std::string_view chunk, int64_t maxt);
  // The chunk's bytes, valid until its file is deleted.
  std::string_view Read(const ChunkLocation& loc) const;
  // Deletes the files whose every chunk is older than `cutoff` (except the current one).
  // Returns how many it deleted.
  size_t DeleteBefore(int64_t cutoff);

  uint64_t BytesOnDisk() const;
  size_t files() const;
  const std::string& dir() const { return dir_; }

 private:
  struct File {
    int fd = -1;
    uint64_t size = 0;
    int64_t max_t = INT64_MIN;
    // Read-only mapping of the whole reserved size; the pages past `size` are never read.
    const char* map = nullptr;
    uint64_t map_size = 0;
  };
  ChunkFiles(std::string dir, uint64_t file_size) : dir_(std::move(dir)), file_size_(file_size) {}
  Status NewFileLocked();
  static void Close(File& f);
  std::string PathOf(uint32_t n) const;

  const std::string dir_;
  const uint64_t file_size_;
  mutable std::mutex mu_;
  std::map<uint32_t, File> files_;  // the last one is being written
  uint32_t next_file_ = 1;
};

}  // namespace shardwise::tsdb
