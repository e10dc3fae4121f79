// CuttableProxy: a TCP forwarder on 127.0.0.1 for tests that need the network to fail
// the way it does in production — connections reset mid-stream (Cut) and an unreachable
// server (SetRefusing: new connections are closed as soon as they are accepted).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>  // before Boost 1.74 asio, which misses it under GCC 12
#include <vector>

#include <boost/asio.hpp>

namespace shardwise::kube::testing {

class CuttableProxy {
 public:
  explicit CuttableProxy(int target_port);
  ~CuttableProxy();
  CuttableProxy(const CuttableProxy&) = delete;
  CuttableProxy& operator=(const CuttableProxy&) = delete;

  int port() const { return port_; }
  // Closes every open connection (both directions).
  void Cut();
  void SetRefusing(bool refusing) { refusing_ = refusing; }
  int accepted() const { return accepted_.load(); }

 private:
  struct Session;
  void Accept();

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::endpoint target_;
  int port_ = 0;
  std::atomic<bool> refusing_{false};
  std::atomic<int> accepted_{0};
  std::mutex mu_;
  std::vector<std::weak_ptr<Session>> sessions_;
  std::thread thread_;
};

}  // namespace shardwise::kube::testing
