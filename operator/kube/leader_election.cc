#include "operator/kube/leader_election.h"

#include <random>

#include "common/log/log.h"
#include "operator/kube/time_format.h"

namespace shardwise::kube {
namespace {

int64_t Seconds(std::chrono::milliseconds d) {
  return std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(d).count());
}

}  // namespace

LeaderElector::LeaderElector(Client* client, Config config, Callbacks callbacks)
    : client_(client), config_(std::move(config)), callbacks_(std::move(callbacks)) {}

LeaderElector::~LeaderElector() { Stop(); }

void LeaderElector::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void LeaderElector::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

std::string LeaderElector::ObservedLeader() const {
  std::lock_guard lock(mu_);
  return observed_holder_;
}

bool LeaderElector::WaitFor(std::chrono::milliseconds delay) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, delay, [&] { return stopping_; });
}

std::chrono::milliseconds LeaderElector::Jittered(std::chrono::milliseconds base) const {
  // client-go waits retry_period·[1, 1.2) so candidates do not move in lockstep.
  static thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_real_distribution<double> factor(1.0, 1.2);
  return std::chrono::milliseconds(static_cast<int64_t>(base.count() * factor(rng)));
}

void LeaderElector::SetLeading(bool leading) {
  if (leading_.exchange(leading) == leading) return;
  if (leading) {
    log::Info("became leader", {{"lease", config_.lease_name}, {"identity", config_.identity}});
    if (callbacks_.on_started_leading) callbacks_.on_started_leading();
  } else {
    log::Info("stopped leading", {{"lease", config_.lease_name}, {"identity", config_.identity}});
    if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
  }
}

bool LeaderElector::TryAcquireOrRenew() {
  const auto wall_now = std::chrono::system_clock::now();
  const std::string now = FormatMicroTime(wall_now);
  nlohmann::json spec = {{"holderIdentity", config_.identity},
                         {"leaseDurationSeconds", Seconds(config_.lease_duration)},
                         {"acquireTime", now},
                         {"renewTime", now},
                         {"leaseTransitions", 0}};

  auto observe = [&](const nlohmann::json& observed) {
    std::string holder = observed.value("holderIdentity", "");
    {
      std::lock_guard lock(mu_);
      observed_holder_ = holder;
    }
    observed_spec_ = observed.dump();
    observed_time_ = std::chrono::steady_clock::now();
    if (holder != last_reported_leader_) {
      last_reported_leader_ = holder;
      if (!holder.empty() && callbacks_.on_new_leader) callbacks_.on_new_leader(holder);
    }
  };

  auto current = client_->Get(resources::kLeases, config_.lease_namespace, config_.lease_name);
  if (!current.ok()) {
    if (!current.error().IsNotFound()) {
      log::Warn("reading lease failed",
                {{"lease", config_.lease_name}, {"error", current.error().ToString()}});
      return false;
    }
    nlohmann::json lease = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}},
        {"spec", spec}};
    auto created = client_->Create(resources::kLeases, config_.lease_namespace, lease);
    if (!created.ok()) return false;  // lost the race to create it, or the API failed
    observe(created->value("spec", nlohmann::json::object()));
    return true;
  }

  Object lease = std::move(current).value();
  const nlohmann::json old_spec = lease.value("spec", nlohmann::json::object());
  if (old_spec.dump() != observed_spec_) observe(old_spec);
  const std::string holder = old_spec.value("holderIdentity", "");
  const bool mine = holder == config_.identity;
  if (!holder.empty() && !mine) {
    const auto duration = std::chrono::seconds(old_spec.value("leaseDurationSeconds", int64_t{0}));
    if (observed_time_ + duration > std::chrono::steady_clock::now()) return false;  // held
  }
  if (mine) {
    spec["acquireTime"] = old_spec.value("acquireTime", now);
    spec["leaseTransitions"] = old_spec.value("leaseTransitions", int64_t{0});
  } else {
    spec["leaseTransitions"] = old_spec.value("leaseTransitions", int64_t{0}) + 1;
  }
  lease["spec"] = spec;  // metadata.resourceVersion stays: the PUT is conditional
  auto updated = client_->Update(resources::kLeases, config_.lease_namespace, lease);
  if (!updated.ok()) {
    if (!updated.error().IsConflict()) {
      log::Warn("updating lease failed",
                {{"lease", config_.lease_name}, {"error", updated.error().ToString()}});
    }
    return false;
  }
  observe(updated->value("spec", nlohmann::json::object()));
  return true;
}

void LeaderElector::Release() {
  auto current = client_->Get(resources::kLeases, config_.lease_namespace, config_.lease_name);
  if (!current.ok()) return;
  Object lease = std::move(current).value();
  if (lease.value("spec", nlohmann::json::object()).value("holderIdentity", "") !=
      config_.identity) {
    return;  // someone else holds it already
  }
  const std::string now = FormatMicroTime(std::chrono::system_clock::now());
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["spec"]["renewTime"] = now;
  lease["spec"]["acquireTime"] = now;
  auto released = client_->Update(resources::kLeases, config_.lease_namespace, lease);
  if (!released.ok()) {
    log::Warn("releasing lease failed",
              {{"lease", config_.lease_name}, {"error", released.error().ToString()}});
  }
}

void LeaderElector::Run() {
  for (;;) {
    // Candidate: try until the lease is ours.
    while (!TryAcquireOrRenew()) {
      if (!WaitFor(Jittered(config_.retry_period))) return;
    }
    SetLeading(true);
    // Leader: renew every retry_period; give up when renew_deadline passes without success.
    bool stopped = false;
    for (;;) {
      if (!WaitFor(config_.retry_period)) {
        stopped = true;
        break;
      }
      const auto deadline = std::chrono::steady_clock::now() + config_.renew_deadline;
      bool renewed = false;
      while (!(renewed = TryAcquireOrRenew()) && std::chrono::steady_clock::now() < deadline) {
        if (!WaitFor(config_.retry_period)) {
          stopped = true;
          break;
        }
      }
      if (stopped || !renewed) break;
    }
    if (stopped && config_.release_on_cancel) Release();
    SetLeading(false);
    if (stopped) return;
  }
}

}  // namespace shardwise::kube
