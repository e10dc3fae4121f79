#include "hack/kube-sim/controller.h"

namespace shardwise::kubesim {

void ControllerManager::Start() {
  auto w = cluster_.store().Watch("", "", cluster_.store().ResourceVersion());
  if (!w.ok()) return;
  watcher_ = w.value();
  thread_ = std::thread([this] { Run(); });
}

void ControllerManager::Stop() {
  // Join first: Run() may replace watcher_ after an overflow.
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (watcher_) cluster_.store().StopWatch(watcher_);
  watcher_.reset();
}

void ControllerManager::Run() {
  auto last_resync = std::chrono::steady_clock::now();
  while (!stop_) {
    auto e = watcher_->Next(std::chrono::milliseconds(100));
    if (e) {
      for (auto& c : controllers_) c->OnEvent(*e);
      // Drain what is queued before resyncing.
      while (!stop_ && (e = watcher_->Next(std::chrono::milliseconds(0))))
        for (auto& c : controllers_) c->OnEvent(*e);
    }
    auto now = std::chrono::steady_clock::now();
    if (e || now - last_resync > std::chrono::milliseconds(200)) {
      for (auto& c : controllers_) c->Resync();
      last_resync = now;
    }
    if (watcher_->closed() && !stop_) {
      // Overflowed: start again from now; Resync() covers what was missed.
      auto w = cluster_.store().Watch("", "", cluster_.store().ResourceVersion());
      if (w.ok()) watcher_ = w.value();
    }
  }
}

}  // namespace shardwise::kubesim
