#include "operator/kube/token_source.h"

#include <fstream>
#include <sstream>

namespace shardwise::kube {

std::string TokenSource::Token() {
  std::lock_guard lock(mu_);
  if (file_.empty()) return token_;
  std::error_code ec;
  const auto mtime = std::filesystem::last_write_time(file_, ec);
  if (ec) return token_;
  const auto size = std::filesystem::file_size(file_, ec);
  if (ec) return token_;
  const auto now = std::chrono::steady_clock::now();
  const bool stale = now - last_read_ >= std::chrono::minutes(1);
  if (!stale && mtime == mtime_ && size == size_ && last_read_ != decltype(last_read_){}) {
    return token_;
  }
  std::ifstream in(file_, std::ios::binary);
  if (!in) return token_;
  std::ostringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  if (token.empty()) return token_;  // a half-written file: keep the last good one
  token_ = std::move(token);
  mtime_ = mtime;
  size_ = size;
  last_read_ = now;
  return token_;
}

}  // namespace shardwise::kube
