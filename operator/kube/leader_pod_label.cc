#include "operator/kube/leader_pod_label.h"

#include <algorithm>

#include "common/log/log.h"

namespace shardwise::kube {

LeaderPodLabel::LeaderPodLabel(Client* client, Options options)
    : client_(client), options_(std::move(options)) {}

LeaderPodLabel::~LeaderPodLabel() { Stop(); }

void LeaderPodLabel::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void LeaderPodLabel::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LeaderPodLabel::Set(bool leading) {
  {
    std::lock_guard lock(mu_);
    leading_ = leading;
    ++generation_;
  }
  cv_.notify_all();
}

bool LeaderPodLabel::WaitSynced(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return synced_ && synced_generation_ == generation_; });
}

Status LeaderPodLabel::Converge(bool leading) {
  auto pod = client_->Get(resources::kPods, options_.ns, options_.pod);
  if (!pod.ok()) return pod.status();
  const nlohmann::json& labels = (*pod)["metadata"].value("labels", nlohmann::json::object());
  bool has = labels.is_object() && labels.value(kLabel, "") == "true";
  if (has == leading) return Status::OK();
  // A merge patch touches only this label (null removes it) and needs no resourceVersion.
  nlohmann::json patch = {
      {"metadata", {{"labels", {{kLabel, leading ? nlohmann::json("true") : nlohmann::json()}}}}}};
  auto patched =
      client_->Patch(resources::kPods, options_.ns, options_.pod, PatchType::kMerge, patch);
  if (!patched.ok()) return patched.status();
  log::Info(leading ? "labelled this pod as the leader" : "removed the leader label from this pod",
            {{"pod", options_.ns + "/" + options_.pod}, {"label", kLabel}});
  return Status::OK();
}

void LeaderPodLabel::Run() {
  std::chrono::milliseconds backoff = options_.initial_backoff;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const bool leading = leading_;
    const uint64_t generation = generation_;
    lock.unlock();
    Status s = Converge(leading);
    lock.lock();
    std::chrono::milliseconds wait = options_.resync;
    if (s.ok()) {
      backoff = options_.initial_backoff;
      synced_ = true;
      synced_generation_ = generation;
      cv_.notify_all();
    } else {
      synced_ = false;
      log::Warn("cannot update the leader label of this pod; retrying",
                {{"pod", options_.ns + "/" + options_.pod}, {"err", s}});
      wait = backoff;
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
    cv_.wait_for(lock, wait, [&] { return stopping_ || generation_ != generation; });
  }
}

}  // namespace shardwise::kube
