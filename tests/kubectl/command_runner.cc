#include "tests/kubectl/command_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

extern char** environ;

namespace shardwise::testing {
namespace {

struct Child {
  int pid = -1;
  int in_fd = -1, out_fd = -1, err_fd = -1;
};

Child Spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  // Everything the child needs is prepared before fork: only exec-safe calls after it.
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string::npos) merged[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : env) merged[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : merged) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);

  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) return {};
  Child c;
  c.pid = fork();
  if (c.pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    setpgid(0, 0);
    execvpe(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  c.in_fd = in[1];
  c.out_fd = out[0];
  c.err_fd = err[0];
  return c;
}

// Reads whatever is available from the fds into the strings; false once both are at EOF.
bool Pump(int& out_fd, int& err_fd, std::string& out, std::string& err, int timeout_ms) {
  pollfd fds[2];
  int n = 0;
  if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
  if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
  if (n == 0) return false;
  if (poll(fds, n, timeout_ms) <= 0) return true;
  char buf[8192];
  for (int i = 0; i < n; ++i) {
    if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    ssize_t r = read(fds[i].fd, buf, sizeof buf);
    bool is_out = fds[i].fd == out_fd;
    if (r > 0) {
      (is_out ? out : err).append(buf, static_cast<size_t>(r));
    } else {
      close(fds[i].fd);
      (is_out ? out_fd : err_fd) = -1;
    }
  }
  return true;
}

}  // namespace

std::string CommandResult::Describe() const {
  return "exit=" + std::to_string(exit_code) + (timed_out ? " (timed out)" : "") + "\nstdout:\n" +
         out + "\nstderr:\n" + err;
}

CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env,
                         std::chrono::milliseconds timeout, const std::string& stdin_data) {
  CommandResult result;
  Child c = Spawn(argv, env);
  if (c.pid <= 0) {
    result.err = "spawn failed";
    return result;
  }
  if (!stdin_data.empty()) {
    size_t off = 0;
    while (off < stdin_data.size()) {
      ssize_t w = write(c.in_fd, stdin_data.data() + off, stdin_data.size() - off);
      if (w <= 0) break;
      off += static_cast<size_t>(w);
    }
  }
  close(c.in_fd);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Pump(c.out_fd, c.err_fd, result.out, result.err, 50)) {
    if (std::chrono::steady_clock::now() > deadline) {
      result.timed_out = true;
      kill(-c.pid, SIGKILL);
      kill(c.pid, SIGKILL);
      break;
    }
  }
  if (c.out_fd >= 0) close(c.out_fd);
  if (c.err_fd >= 0) close(c.err_fd);
  int status = 0;
  waitpid(c.pid, &status, 0);
  if (!result.timed_out && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

BackgroundCommand::BackgroundCommand(const std::vector<std::string>& argv,
                                     const std::map<std::string, std::string>& env) {
  Child c = Spawn(argv, env);
  pid_ = c.pid;
  close(c.in_fd);
  out_fd_ = c.out_fd;
  err_fd_ = c.err_fd;
  reader_ = std::thread([this] {
    std::string out, err;
    int o = out_fd_, e = err_fd_;
    while (true) {
      size_t before_out = out.size(), before_err = err.size();
      if (!Pump(o, e, out, err, 50)) break;
      if (out.size() != before_out || err.size() != before_err) {
        std::lock_guard<std::mutex> lock(mu_);
        out_ = out;
        err_ = err;
      }
    }
  });
}

BackgroundCommand::~BackgroundCommand() {
  if (pid_ > 0) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  }
  if (reader_.joinable()) reader_.join();
}

int BackgroundCommand::Terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      pid_ = -1;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool BackgroundCommand::WaitForOutput(const std::string& needle,
                                      std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Output().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling, not synchronisation
  }
  return Output().find(needle) != std::string::npos;
}

std::string BackgroundCommand::Output() {
  std::lock_guard<std::mutex> lock(mu_);
  return out_;
}

std::string BackgroundCommand::Errors() {
  std::lock_guard<std::mutex> lock(mu_);
  return err_;
}

}  // namespace shardwise::testing
