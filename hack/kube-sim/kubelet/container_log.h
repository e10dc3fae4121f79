// Container logs as the kubelet keeps them: one file per container instance (restart),
// each line "<RFC3339Nano> <stdout|stderr> F <text>" (the CRI log format), written by a
// capture thread that reads the process's stdout and stderr pipes until both close.
// ReadLogs renders a file for GET .../pods/NAME/log: tailLines, sinceSeconds/sinceTime,
// timestamps, limitBytes, and follow (stream until the instance's pipes close).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "common/status.h"

namespace shardwise::kubesim {

class LogCapture {
 public:
  // Takes ownership of the read ends of the process's stdout and stderr pipes.
  LogCapture(std::string path, int out_fd, int err_fd);
  ~LogCapture();  // waits for the pipes to close
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  const std::string& path() const { return path_; }
  bool done() const { return done_; }

 private:
  void Run(int out_fd, int err_fd);
  std::string path_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

struct LogOptions {
  bool follow = false;
  bool timestamps = false;
  std::optional<long long> tail_lines;
  std::optional<std::chrono::system_clock::time_point> since;
  std::optional<long long> limit_bytes;
};

// Writes the log at `path` to `emit` (which returns false when the reader went away).
// With follow, keeps reading until `finished()` holds and the file is drained, or `stop()`
// (which should also notice a reader that went away).
void ReadLogs(const std::string& path, const LogOptions& opts,
              const std::function<bool(const std::string&)>& emit,
              const std::function<bool()>& finished, const std::function<bool()>& stop);

}  // namespace shardwise::kubesim
