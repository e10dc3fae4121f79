#include "hack/kube-sim/kubelet/prober.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "common/http/client.h"
#include "hack/kube-sim/kubelet/launcher.h"

namespace shardwise::kubesim {
namespace {

// A port number or a container port name.
int ResolvePort(const json& port, const json& container) {
  if (port.is_number_integer()) return port.get<int>();
  if (!port.is_string()) return 0;
  std::string name = port.get<std::string>();
  for (const auto& p : container.value("ports", json::array()))
    if (p.value("name", "") == name) return p.value("containerPort", 0);
  try {
    return std::stoi(name);
  } catch (...) {
    return 0;
  }
}

bool LoopbackHost(const std::string& host) {
  in_addr a;
  return inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

bool TcpConnect(const std::string& host, int port, double timeout_s, std::string* detail) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    *detail = "bad host " + host;
    return false;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  bool ok = rc == 0;
  if (!ok && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(timeout_s * 1000)) == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      ok = err == 0;
    }
  }
  ::close(fd);
  if (!ok)
    *detail = "dial tcp " + host + ":" + std::to_string(port) + ": connect: connection refused";
  return ok;
}

}  // namespace

std::string HttpProbeFailure(const Status& error, const std::string& url,
                             const std::string& host_port) {
  std::string reason = error.message();
  // The client's message starts with "GET <url>: "; the kubelet names the URL once.
  if (size_t at = reason.find(url + ": "); at != std::string::npos)
    reason = reason.substr(at + url.size() + 2);
  if (error.code() == Status::Code::kDeadlineExceeded) {
    reason = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)";
  } else if (reason.find("Couldn't connect") != std::string::npos ||
             reason.find("Connection refused") != std::string::npos) {
    reason = "dial tcp " + host_port + ": connect: connection refused";
  } else if (reason.find("Empty reply") != std::string::npos) {
    reason = "EOF";
  } else if (reason.find("Connection reset") != std::string::npos) {
    reason = "read tcp " + host_port + ": read: connection reset by peer";
  }
  return "Get \"" + url + "\": " + reason;
}

namespace {

bool RunProbeUnchecked(const ProbeTask& task, double timeout_s, std::string* detail) {
  const json& p = task.probe;
  if (p.contains("httpGet")) {
    const json& h = p["httpGet"];
    std::string host = h.value("host", task.pod_ip);
    if (host.empty() || !LoopbackHost(host)) {
      *detail = "probe host " + host + " is not a loopback address";
      return false;
    }
    int port = ResolvePort(h.value("port", json()), task.container);
    std::string scheme = h.value("scheme", "HTTP");
    std::string path = h.value("path", "/");
    if (path.empty() || path[0] != '/') path = "/" + path;
    http::ClientRequest req;
    req.url =
        (scheme == "HTTPS" ? "https://" : "http://") + host + ":" + std::to_string(port) + path;
    req.timeout = std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
    req.tls.insecure_skip_verify = true;
    req.headers.emplace_back("User-Agent", "kube-probe/1.32");
    for (const auto& hdr : h.value("httpHeaders", json::array()))
      req.headers.emplace_back(hdr.value("name", ""), hdr.value("value", ""));
    auto r = http::Client::Shared().DoSync(std::move(req));
    if (!r.ok()) {
      *detail = HttpProbeFailure(
          r.status(),
          (scheme == "HTTPS" ? "https://" : "http://") + host + ":" + std::to_string(port) + path,
          host + ":" + std::to_string(port));
      return false;
    }
    if (r->status >= 200 && r->status < 400) return true;
    *detail = "HTTP probe failed with statuscode: " + std::to_string(r->status);
    return false;
  }
  if (p.contains("tcpSocket")) {
    const json& t = p["tcpSocket"];
    std::string host = t.value("host", task.pod_ip);
    if (!LoopbackHost(host)) {
      *detail = "probe host " + host + " is not a loopback address";
      return false;
    }
    return TcpConnect(host, ResolvePort(t.value("port", json()), task.container), timeout_s,
                      detail);
  }
  if (p.contains("exec")) {
    LaunchSpec spec;
    for (const auto& c : p["exec"].value("command", json::array()))
      spec.argv.push_back(c.is_string() ? c.get<std::string>() : c.dump());
    spec.env = task.env;
    spec.join_pid = task.container_pid;
    if (spec.argv.empty() || task.container_pid <= 0) {
      *detail = "no command or container not running";
      return false;
    }
    auto pid = SpawnContainer(task.launcher, spec, -1, -1);
    if (!pid.ok()) {
      *detail = pid.status().message();
      return false;
    }
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
    int status = 0;
    while (true) {
      pid_t r = ::waitpid(pid.value(), &status, WNOHANG);
      if (r == pid.value()) break;
      if (r < 0) return false;
      if (std::chrono::steady_clock::now() >= deadline) {
        ::kill(-pid.value(), SIGKILL);
        ::waitpid(pid.value(), &status, 0);
        *detail = "command timed out";
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
    *detail = "command failed with exit code " +
              std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return false;
  }
  *detail = "unsupported probe handler";
  return false;
}

}  // namespace

bool RunProbe(const ProbeTask& task, double timeout_s, std::string* detail) {
  try {
    return RunProbeUnchecked(task, timeout_s, detail);
  } catch (const std::exception& e) {
    *detail = std::string("malformed probe: ") + e.what();
    return false;
  }
}

Prober::Prober() {
  thread_ = std::thread([this] { Run(); });
}

Prober::~Prober() { Stop(); }

void Prober::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Prober::Submit(ProbeTask task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_all();
}

std::map<std::string, std::pair<bool, std::string>> Prober::TakeResults() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(results_, {});
}

void Prober::Run() {
  while (true) {
    ProbeTask task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    json t = task.probe.value("timeoutSeconds", json(1));
    double timeout = t.is_number() ? t.get<double>() : 1.0;
    if (timeout <= 0) timeout = 1;
    std::string detail;
    bool ok = RunProbe(task, timeout, &detail);
    std::lock_guard<std::mutex> lock(mu_);
    results_[task.key] = {ok, detail};
  }
}

}  // namespace shardwise::kubesim
