#include "scraper/remotewrite/test_receiver.h"

#include <fcntl.h>
#include <signal.h>
#include <snappy.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

extern char** environ;

namespace shardwise::remotewrite::testing {

Result<prometheus::WriteRequest> DecodeBody(std::string_view snappy_body) {
  std::string plain;
  if (!snappy::Uncompress(snappy_body.data(), snappy_body.size(), &plain)) {
    return Status::InvalidArgument("body is not snappy");
  }
  prometheus::WriteRequest req;
  if (!req.ParseFromString(plain)) return Status::InvalidArgument("body is not a WriteRequest");
  return req;
}

std::string SeriesString(const prometheus::TimeSeries& ts) {
  std::string s = "{";
  for (int i = 0; i < ts.labels_size(); ++i) {
    if (i > 0) s += ", ";
    s += ts.labels(i).name() + "=\"" + ts.labels(i).value() + "\"";
  }
  return s + "}";
}

void Collector::Add(const prometheus::WriteRequest& req) {
  {
    std::lock_guard lock(mu_);
    for (const auto& ts : req.timeseries()) {
      std::string series = SeriesString(ts);
      for (const auto& s : ts.samples()) samples_.push_back({series, s.timestamp(), s.value()});
    }
  }
  cv_.notify_all();
}

std::vector<ReceivedSample> Collector::Samples() const {
  std::lock_guard lock(mu_);
  return samples_;
}

size_t Collector::size() const {
  std::lock_guard lock(mu_);
  return samples_.size();
}

bool Collector::WaitFor(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return samples_.size() >= n; });
}

SendAttempt FakeTransport::Send(std::string_view snappy_body) {
  Result<prometheus::WriteRequest> req = DecodeBody(snappy_body);
  if (!req.ok()) return {{SendOutcome::kDrop, {}}, 400, req.status().ToString()};
  int attempt;
  {
    std::lock_guard lock(mu_);
    attempt = ++attempts_;
  }
  SendAttempt result{{SendOutcome::kDelivered, {}}, 204, ""};
  if (policy_) result = policy_(*req, attempt);
  if (result.verdict.outcome == SendOutcome::kDelivered) delivered_->Add(*req);
  return result;
}

bool OnPath(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

bool WaitReady(http::Client& client, const std::string& url, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    http::ClientRequest req;
    req.url = url;
    req.timeout = std::chrono::seconds(1);
    auto resp = client.DoSync(req);
    if (resp.ok() && resp->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

Process::Process(std::vector<std::string> argv, const std::string& log_path) {
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

void Process::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 200; ++i) {  // up to 10 s for a clean shutdown
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace shardwise::remotewrite::testing
