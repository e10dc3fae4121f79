// Runs a child process (kubectl) with extra environment, a deadline, optional stdin,
// and captures stdout, stderr and the exit code. Background runs (for `kubectl get -w`)
// can be polled for output and are killed when destroyed.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace shardwise::testing {

struct CommandResult {
  int exit_code = -1;  // -1 if killed or not started
  bool timed_out = false;
  std::string out;
  std::string err;
  // "exit=N\nstdout:\n...\nstderr:\n..." for assertion messages.
  std::string Describe() const;
};

CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env,
                         std::chrono::milliseconds timeout, const std::string& stdin_data = "");

class BackgroundCommand {
 public:
  BackgroundCommand(const std::vector<std::string>& argv,
                    const std::map<std::string, std::string>& env);
  ~BackgroundCommand();
  // Waits until stdout contains `needle` or the deadline passes.
  bool WaitForOutput(const std::string& needle, std::chrono::milliseconds timeout);
  std::string Output();
  std::string Errors();
  // Sends SIGTERM and waits for the exit; the exit code, or -1 if it had to be killed.
  int Terminate(std::chrono::milliseconds timeout);

 private:
  int pid_ = -1;
  std::mutex mu_;
  std::string out_, err_;
  std::thread reader_;
  int out_fd_ = -1, err_fd_ = -1;
};

}  // namespace shardwise::testing
