#include "hack/kube-sim/kubelet/proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "common/log/log.h"

namespace shardwise::kubesim {
namespace {

bool ParseAddr(const std::string& hostport, sockaddr_in* out) {
  size_t colon = hostport.rfind(':');
  if (colon == std::string::npos) return false;
  std::memset(out, 0, sizeof *out);
  out->sin_family = AF_INET;
  int port = std::atoi(hostport.c_str() + colon + 1);
  if (port <= 0 || port > 65535) return false;
  out->sin_port = htons(static_cast<uint16_t>(port));
  std::string host = hostport.substr(0, colon);
  if (inet_pton(AF_INET, host.c_str(), &out->sin_addr) != 1) return false;
  // Only loopback: nothing may leave this machine.
  return (ntohl(out->sin_addr.s_addr) >> 24) == 127;
}

int Listen(const std::string& frontend) {
  sockaddr_in addr;
  if (!ParseAddr(frontend, &addr)) return -1;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 128) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

ServiceProxy::ServiceProxy() {
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

ServiceProxy::~ServiceProxy() { Stop(); }

void ServiceProxy::Wake() {
  char c = 1;
  if (wake_[1] >= 0 && ::write(wake_[1], &c, 1) < 0) {
  }
}

void ServiceProxy::Update(const std::map<std::string, std::vector<std::string>>& table) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    if (!table.count(it->first)) {
      ::close(it->second);
      it = listeners_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [frontend, backends] : table) {
    if (listeners_.count(frontend)) continue;
    int fd = Listen(frontend);
    if (fd < 0) {
      log::Warn("kube-proxy cannot listen",
                {{"address", frontend}, {"error", std::strerror(errno)}});
      continue;
    }
    listeners_[frontend] = fd;
  }
  backends_ = table;
  Wake();
}

void ServiceProxy::Stop() {
  if (stop_.exchange(true)) return;
  Wake();
  if (acceptor_.joinable()) acceptor_.join();
  std::list<std::unique_ptr<Conn>> conns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [f, fd] : listeners_) ::close(fd);
    listeners_.clear();
    for (auto& c : conns_) {
      if (c->a >= 0) ::shutdown(c->a, SHUT_RDWR);
      if (c->b >= 0) ::shutdown(c->b, SHUT_RDWR);
    }
    conns.swap(conns_);
  }
  for (auto& c : conns)
    if (c->thread.joinable()) c->thread.join();
  for (int fd : wake_)
    if (fd >= 0) ::close(fd);
}

void ServiceProxy::AcceptLoop() {
  while (!stop_) {
    std::vector<pollfd> fds;
    std::vector<std::string> names;
    {
      std::lock_guard<std::mutex> lock(mu_);
      fds.push_back({wake_[0], POLLIN, 0});
      names.emplace_back();
      for (auto& [f, fd] : listeners_) {
        fds.push_back({fd, POLLIN, 0});
        names.push_back(f);
      }
      // Reap finished connections.
      for (auto it = conns_.begin(); it != conns_.end();) {
        if ((*it)->done) {
          (*it)->thread.join();
          it = conns_.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (::poll(fds.data(), fds.size(), 1000) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      char buf[64];
      while (::read(wake_[0], buf, sizeof buf) > 0) {
      }
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      int client = ::accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      Forward(client, names[i]);
    }
  }
}

void ServiceProxy::Forward(int client, const std::string& frontend) {
  std::string backend;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = backends_.find(frontend);
    if (it != backends_.end() && !it->second.empty())
      backend = it->second[next_[frontend]++ % it->second.size()];
  }
  sockaddr_in addr;
  if (backend.empty() || !ParseAddr(backend, &addr)) {
    ::close(client);
    return;
  }
  int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (upstream < 0 || ::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (upstream >= 0) ::close(upstream);
    ::close(client);
    return;
  }
  auto conn = std::make_unique<Conn>();
  Conn* c = conn.get();
  c->a = client;
  c->b = upstream;
  c->thread = std::thread([c] {
    pollfd fds[2] = {{c->a, POLLIN, 0}, {c->b, POLLIN, 0}};
    bool open[2] = {true, true};
    char buf[32768];
    while (open[0] || open[1]) {
      fds[0].events = open[0] ? POLLIN : 0;
      fds[1].events = open[1] ? POLLIN : 0;
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      bool failed = false;
      for (int i = 0; i < 2; ++i) {
        if (!open[i] || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        int from = fds[i].fd, to = fds[1 - i].fd;
        ssize_t n = ::read(from, buf, sizeof buf);
        if (n <= 0) {
          open[i] = false;
          ::shutdown(to, SHUT_WR);
          continue;
        }
        for (ssize_t off = 0; off < n;) {
          ssize_t w = ::send(to, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
          if (w <= 0) {
            failed = true;
            break;
          }
          off += w;
        }
        if (failed) break;
      }
      if (failed) break;
    }
    ::close(c->a);
    ::close(c->b);
    c->done = true;
  });
  std::lock_guard<std::mutex> lock(mu_);
  conns_.push_back(std::move(conn));
}

}  // namespace shardwise::kubesim
