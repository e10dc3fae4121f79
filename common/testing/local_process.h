// Helpers for tests that run a real program beside the code under test (prometheus,
// promtool, victoria-metrics, shardwise-scraper): finding it on PATH, picking a loopback
// port for it, running it as a child process; and a loopback peer that never answers (and
// sees whether the client closed the connection).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/testing/test_util.h"

extern char** environ;

namespace shardwise::testing {

// The full path of the executable `name` in $PATH (default /usr/bin:/bin), or "" when there
// is none: tests skip rather than fail where an optional program is missing.
inline std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string candidate = p.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

// Binds `fd` to a free port on 127.0.0.1 and returns that port (0 on failure).
inline int BindLoopback(int fd) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 0;
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.sin_port);
}

// A TCP port on 127.0.0.1 that was free a moment ago, for a child process that must be told
// its port up front (racy by nature; the kernel hands out ports in sequence, so a port just
// released is not given again at once).
inline int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int port = BindLoopback(fd);
  ::close(fd);
  return port;
}

// A hung peer: a loopback listener that never answers. The kernel completes connections into
// its backlog, so a client's request goes out and no response ever comes.
class SilentListener {
 public:
  SilentListener() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    port_ = BindLoopback(fd_);
    if (::listen(fd_, 16) != 0) port_ = 0;
  }
  ~SilentListener() { ::close(fd_); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  int port() const { return port_; }  // 0 when the listener could not be set up
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The next connection, once one arrives within `timeout` (the caller closes it), else -1.
  int Accept(std::chrono::milliseconds timeout) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return -1;
    return ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  }

 private:
  int fd_;
  int port_ = 0;
};

// True once the peer of the connected socket `fd` has closed (or reset) the connection.
// Reads and drops what the peer sent before; never blocks. Poll it with WaitFor.
inline bool PeerClosed(int fd) {
  char buf[4096];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) continue;
    return n == 0 || errno == ECONNRESET;
  }
}

// A program run by a test: argv[0] is looked up on PATH, stdout and stderr are appended to
// `log_path`. Destruction stops it (SIGTERM, then SIGKILL after 10 s) and reaps it, so no
// test leaves a process behind.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, const std::string& log_path) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~ChildProcess() { Stop(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Started and not yet reaped by this object (an exit is noticed only by Running()).
  bool running() const { return pid_ > 0; }
  // Still alive: reaps a child that exited, which is never signalled afterwards.
  bool Running() {
    if (pid_ <= 0) return false;
    if (::waitpid(pid_, nullptr, WNOHANG) == 0) return true;
    pid_ = -1;
    return false;
  }
  // Sends `sig` and waits up to `timeout` for the exit. Returns the wait status, or -1 when
  // the process did not exit in time (it is then SIGKILLed and reaped) or was not running.
  int SignalAndWait(int sig, std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    bool exited = WaitFor([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
    if (!exited) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      status = -1;
    }
    pid_ = -1;
    return status;
  }
  void Stop() { SignalAndWait(SIGTERM, std::chrono::seconds(10)); }

 private:
  pid_t pid_ = -1;
};

}  // namespace shardwise::testing
