// TokenSource: the bearer token to send, from a fixed string or from a file that another
// process rotates (the kubelet replaces projected service-account tokens about hourly by
// swapping a symlink). The file is re-read when its modification time or size changes,
// and at least once a minute; between changes the cached token is served without I/O
// beyond a stat. A file that cannot be read keeps the last good token.
#pragma once

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>

namespace shardwise::kube {

class TokenSource {
 public:
  TokenSource(std::string token, std::string token_file)
      : token_(std::move(token)), file_(std::move(token_file)) {}

  // "" when there is no token.
  std::string Token();

 private:
  std::mutex mu_;
  std::string token_;
  const std::string file_;
  std::filesystem::file_time_type mtime_{};
  std::uintmax_t size_ = 0;
  std::chrono::steady_clock::time_point last_read_{};
};

}  // namespace shardwise::kube
