// FileSdSource: Prometheus file_sd_configs. Each entry of `files` is a path whose last
// element may be a glob ("targets/*.json"); files ending in .json are JSON, .yml/.yaml YAML.
// The files are polled: re-read when their mtime or size changes (checked every
// `poll_interval`) and unconditionally every `refresh_interval`. A file that fails to read
// or parse keeps its last good groups (Prometheus does the same) and is logged and counted.
// Every group gets the label __meta_filepath.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "scraper/discovery/periodic.h"
#include "scraper/discovery/source.h"

namespace shardwise::sd {

struct FileSdConfig {
  std::vector<std::string> files;
  std::chrono::milliseconds refresh_interval{std::chrono::minutes(5)};
  bool operator==(const FileSdConfig&) const = default;
};

class FileSdSource : public TargetSource {
 public:
  explicit FileSdSource(FileSdConfig config,
                        std::chrono::milliseconds poll_interval = std::chrono::seconds(1));
  ~FileSdSource() override { Stop(); }
  void Start(UpdateFn update) override;
  void Stop() override;

  // One polling pass: re-reads changed files and reports when the groups changed.
  // Exposed for tests; Start() runs it periodically.
  void Poll(bool force);

 private:
  struct FileState {
    int64_t mtime_ns = -1;
    int64_t size = -1;
    std::vector<TargetGroup> groups;  // last good
  };
  std::vector<std::string> ExpandFiles() const;

  FileSdConfig config_;
  std::chrono::milliseconds poll_interval_;
  UpdateFn update_;
  std::map<std::string, FileState> files_;
  std::vector<TargetGroup> last_reported_;
  bool reported_ = false;
  std::chrono::steady_clock::time_point last_full_read_{};
  Periodic periodic_;
};

}  // namespace shardwise::sd
