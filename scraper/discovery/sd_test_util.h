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

#include "common/testing/test_util.h"
#include "scraper/discovery/source.h"

namespace shardwise::sd::testing {

using shardwise::testing::TempDir;
using shardwise::testing::WaitFor;

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

}  // namespace shardwise::sd::testing
