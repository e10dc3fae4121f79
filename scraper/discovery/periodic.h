// Periodic: a thread that runs a function now and then every `interval` until stopped.
// Stop() wakes the thread and joins it; the function is never running after Stop returns.
// Shared by the polling target sources.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace shardwise::sd {

class Periodic {
 public:
  Periodic() = default;
  ~Periodic() { Stop(); }
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  void Start(std::chrono::milliseconds interval, std::function<void()> fn);
  void Stop();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace shardwise::sd
