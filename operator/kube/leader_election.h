// LeaderElector: leader election on a coordination.k8s.io/v1 Lease, with client-go's
// semantics, so one operator replica of many acts.
//
// A candidate reads the Lease; creates it if missing (holder = itself); takes it over when
// the holder's record has not changed for lease_duration — measured on the candidate's
// own clock from when it last *saw* the record change, so clock skew between replicas does
// not matter; otherwise waits. Writes are PUTs conditional on the resourceVersion read, so
// of two racing candidates exactly one wins (the other gets 409). Takeover increments
// leaseTransitions and sets acquireTime; renewals only move renewTime.
//
// The leader renews every retry_period. If it cannot renew within renew_deadline it stops
// leading (OnStoppedLeading) and goes back to candidacy: another replica may already
// consider the lease expired. Stop() releases the lease (holder "", duration 1 s) when
// release_on_cancel is set so a successor need not wait for expiry.
//
// Callbacks run on the elector's thread and must return quickly: start or stop your
// controllers and return. Timing needs lease_duration > renew_deadline > retry_period.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "operator/kube/client.h"

namespace shardwise::kube {

class LeaderElector {
 public:
  struct Config {
    std::string lease_namespace = "default";
    std::string lease_name;
    std::string identity;  // unique per replica, e.g. the pod name
    std::chrono::milliseconds lease_duration{15000};
    std::chrono::milliseconds renew_deadline{10000};
    std::chrono::milliseconds retry_period{2000};
    bool release_on_cancel = true;
  };
  struct Callbacks {
    std::function<void()> on_started_leading;
    std::function<void()> on_stopped_leading;
    // Whenever the observed holder changes (including to this candidate).
    std::function<void(const std::string& identity)> on_new_leader;
  };

  LeaderElector(Client* client, Config config, Callbacks callbacks);
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  void Start();
  // Stops campaigning; releases the lease if leading and release_on_cancel; calls
  // on_stopped_leading if it was leading. Returns when the elector's thread has ended.
  void Stop();

  bool IsLeader() const { return leading_.load(); }
  // The holder last observed ("" when unknown or released).
  std::string ObservedLeader() const;

  // One acquire-or-renew attempt (exposed for tests): true when this candidate holds the
  // lease afterwards.
  bool TryAcquireOrRenew();

 private:
  void Run();
  bool WaitFor(std::chrono::milliseconds delay);  // false when stopped
  std::chrono::milliseconds Jittered(std::chrono::milliseconds base) const;
  void Release();
  void SetLeading(bool leading);

  Client* const client_;
  const Config config_;
  const Callbacks callbacks_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<bool> leading_{false};

  // Touched only by the elector thread (and TryAcquireOrRenew's caller in tests).
  std::string observed_spec_;  // the Lease spec as last read, serialised
  std::string observed_holder_;
  std::chrono::steady_clock::time_point observed_time_{};
  std::string last_reported_leader_;
};

}  // namespace shardwise::kube
