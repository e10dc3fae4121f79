// ServiceProxy: the simulated kube-proxy. For every Service port it listens on
// clusterIP:port (a loopback address, 127.96.0.0/16) and forwards each TCP connection to
// one of the Service's ready endpoints (podIP:targetPort), round-robin. The table is
// replaced whenever Services or pod readiness change; a frontend with no endpoints accepts
// and closes connections at once (as a REJECT rule would refuse them).
// One thread accepts for every listener; each proxied connection has a thread copying
// both directions until either side closes.
#pragma once

#include <atomic>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace shardwise::kubesim {

class ServiceProxy {
 public:
  ServiceProxy();
  ~ServiceProxy();
  ServiceProxy(const ServiceProxy&) = delete;
  ServiceProxy& operator=(const ServiceProxy&) = delete;

  // frontend "ip:port" -> backends "ip:port" (empty: none ready).
  void Update(const std::map<std::string, std::vector<std::string>>& table);
  void Stop();

 private:
  struct Conn {
    std::thread thread;
    std::atomic<bool> done{false};
    int a = -1, b = -1;
  };
  void AcceptLoop();
  void Forward(int client, const std::string& frontend);
  void Wake();

  std::mutex mu_;
  std::map<std::string, int> listeners_;  // frontend -> listening fd
  std::map<std::string, std::vector<std::string>> backends_;
  std::map<std::string, size_t> next_;
  std::list<std::unique_ptr<Conn>> conns_;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
};

}  // namespace shardwise::kubesim
