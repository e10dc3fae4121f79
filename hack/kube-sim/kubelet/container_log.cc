#include "hack/kube-sim/kubelet/container_log.h"

#include <poll.h>
#include <unistd.h>

#include <deque>
#include <fstream>

#include "hack/kube-sim/time_util.h"

namespace shardwise::kubesim {

LogCapture::LogCapture(std::string path, int out_fd, int err_fd) : path_(std::move(path)) {
  thread_ = std::thread([this, out_fd, err_fd] { Run(out_fd, err_fd); });
}

LogCapture::~LogCapture() {
  if (thread_.joinable()) thread_.join();
}

void LogCapture::Run(int out_fd, int err_fd) {
  std::ofstream file(path_, std::ios::app | std::ios::binary);
  struct Stream {
    int fd;
    const char* name;
    std::string partial;
  };
  Stream streams[2] = {{out_fd, "stdout", ""}, {err_fd, "stderr", ""}};
  auto emit = [&](Stream& s, const std::string& line) {
    file << Rfc3339Nano(std::chrono::system_clock::now()) << ' ' << s.name << " F " << line << '\n';
  };
  char buf[16384];
  while (streams[0].fd >= 0 || streams[1].fd >= 0) {
    pollfd fds[2];
    int n = 0;
    Stream* which[2];
    for (auto& s : streams) {
      if (s.fd < 0) continue;
      fds[n] = {s.fd, POLLIN, 0};
      which[n++] = &s;
    }
    if (::poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Stream& s = *which[i];
      ssize_t r = ::read(s.fd, buf, sizeof buf);
      if (r <= 0) {
        if (r < 0 && errno == EINTR) continue;
        if (!s.partial.empty()) emit(s, s.partial);
        s.partial.clear();
        ::close(s.fd);
        s.fd = -1;
        continue;
      }
      s.partial.append(buf, static_cast<size_t>(r));
      size_t pos;
      while ((pos = s.partial.find('\n')) != std::string::npos) {
        emit(s, s.partial.substr(0, pos));
        s.partial.erase(0, pos + 1);
      }
      // Very long lines are split, as runtimes do.
      if (s.partial.size() > 16384) {
        emit(s, s.partial);
        s.partial.clear();
      }
    }
    file.flush();
  }
  file.flush();
  done_ = true;
}

namespace {

struct LogLine {
  std::string timestamp;
  std::string text;
};

std::optional<LogLine> ParseLine(const std::string& raw) {
  size_t a = raw.find(' ');
  if (a == std::string::npos) return std::nullopt;
  size_t b = raw.find(' ', a + 1);
  if (b == std::string::npos) return std::nullopt;
  size_t c = raw.find(' ', b + 1);
  if (c == std::string::npos) return std::nullopt;
  return LogLine{raw.substr(0, a), raw.substr(c + 1)};
}

}  // namespace

void ReadLogs(const std::string& path, const LogOptions& opts,
              const std::function<bool(const std::string&)>& emit,
              const std::function<bool()>& finished, const std::function<bool()>& stop) {
  std::ifstream in(path, std::ios::binary);
  long long budget = opts.limit_bytes.value_or(-1);
  auto render = [&](const LogLine& l) -> std::optional<std::string> {
    if (opts.since) {
      auto t = ParseRfc3339Nano(l.timestamp);
      if (t && *t < *opts.since) return std::nullopt;
    }
    std::string out = opts.timestamps ? l.timestamp + " " + l.text + "\n" : l.text + "\n";
    return out;
  };
  auto send = [&](std::string s) {
    if (budget >= 0) {
      if (budget == 0) return false;
      if (static_cast<long long>(s.size()) > budget) s.resize(static_cast<size_t>(budget));
      budget -= static_cast<long long>(s.size());
    }
    return emit(s);
  };
  // The existing content (tail applies to it).
  std::deque<std::string> lines;
  std::string raw;
  std::streampos consumed = 0;
  while (in && std::getline(in, raw)) {
    if (in.eof()) break;  // a line still being written; picked up by follow
    consumed = in.tellg();
    auto l = ParseLine(raw);
    if (!l) continue;
    auto r = render(*l);
    if (!r) continue;
    lines.push_back(std::move(*r));
    if (opts.tail_lines && static_cast<long long>(lines.size()) > *opts.tail_lines)
      lines.pop_front();
  }
  if (opts.tail_lines && *opts.tail_lines == 0) lines.clear();
  std::string chunk;
  for (auto& l : lines) chunk += l;
  if (!chunk.empty() && !send(chunk)) return;
  if (!opts.follow) return;
  std::string pending;
  while (!stop()) {
    bool was_finished = finished();
    std::ifstream more(path, std::ios::binary);
    more.seekg(consumed);
    std::string out;
    while (more && std::getline(more, raw)) {
      if (more.eof()) break;
      consumed = more.tellg();
      auto l = ParseLine(raw);
      if (!l) continue;
      auto r = render(*l);
      if (r) out += *r;
    }
    if (!out.empty() && !send(out)) return;
    if (was_finished) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace shardwise::kubesim
