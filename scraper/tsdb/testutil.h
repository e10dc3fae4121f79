// Helpers shared by the TSDB tests: a temporary directory that cleans up after itself.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

namespace shardwise::tsdb::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    static std::atomic<int> counter{0};
    path_ = (std::filesystem::temp_directory_path() /
             ("shardwise_tsdb_" + tag + "_" + std::to_string(::getpid()) + "_" +
              std::to_string(counter++)))
                .string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace shardwise::tsdb::testing
