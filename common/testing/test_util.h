// Helpers every test suite uses: polling with a deadline (never sleeping as
// synchronisation) and a temporary directory that cleans up after itself.
#pragma once

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace shardwise::testing {

// Polls `pred` every couple of milliseconds until it holds or `limit` passes; returns
// whether it held (evaluated once more at the deadline).
template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return pred();
}

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "shardwise-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `content` to `name` through a temporary file and a rename, so a concurrent
  // reader (a file_sd poll, a config reload) never sees a half-written file.
  std::string File(const std::string& name, const std::string& content) const {
    std::string p = path_ + "/" + name;
    std::string tmp = path_ + "/.tmp-" + name;
    std::ofstream(tmp, std::ios::binary | std::ios::trunc) << content;
    std::filesystem::rename(tmp, p);
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace shardwise::testing
