// Helpers for the target source tests: collecting updates and polling with a deadline.
#pragma once

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "scraper/discovery/source.h"

namespace shardwise::sd::testing {

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return pred();
}

// Records every update a source delivers.
class Updates {
 public:
  UpdateFn Fn() {
    return [this](std::vector<TargetGroup> groups) {
      std::lock_guard lock(mu_);
      updates_.push_back(std::move(groups));
    };
  }
  size_t count() const {
    std::lock_guard lock(mu_);
    return updates_.size();
  }
  std::vector<TargetGroup> last() const {
    std::lock_guard lock(mu_);
    return updates_.empty() ? std::vector<TargetGroup>{} : updates_.back();
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::vector<TargetGroup>> updates_;
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "shardwise-sd-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  // Writes through a temporary file and a rename, as config management tools do, so a
  // poll never sees a half-written file.
  std::string Write(const std::string& name, const std::string& content) const {
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

}  // namespace shardwise::sd::testing
