// LeaderPodLabel: shows on the replicas' own pods which one leads, so a Service selecting
// the label routes to the leader while every replica is Ready. Readiness means "can serve"
// (caches synced, as controller-runtime's), not "leads": a standby that is never Ready would
// keep `kubectl rollout status` and a Deployment's availability from ever completing.
//
// The leader's pod carries `shardwise.io/leader: "true"`; every other replica keeps the
// label off its pod. Set() records the wanted state and returns at once (it is called from
// LeaderElector callbacks, which must be quick); a background thread converges the pod with
// a Get and, when it differs, a JSON merge patch, retrying failures with backoff, and checks
// again every `resync` so a label changed by hand is put back. The wanted state starts as
// "not leading": a restarted container keeps its pod's labels, so a former leader's pod
// loses the label before this replica does anything else.
//
// RBAC: pods get and patch in the pod's own namespace (manifests/rbac.yaml).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "operator/kube/client.h"

namespace shardwise::kube {

class LeaderPodLabel {
 public:
  static constexpr char kLabel[] = "shardwise.io/leader";

  struct Options {
    std::string ns;   // the pod's namespace (POD_NAMESPACE from the downward API)
    std::string pod;  // the pod's name (POD_NAME)
    std::chrono::milliseconds resync{std::chrono::seconds(30)};
    std::chrono::milliseconds initial_backoff{200};
    std::chrono::milliseconds max_backoff{std::chrono::seconds(10)};
  };

  LeaderPodLabel(Client* client, Options options);
  ~LeaderPodLabel();  // Stop()
  LeaderPodLabel(const LeaderPodLabel&) = delete;
  LeaderPodLabel& operator=(const LeaderPodLabel&) = delete;

  void Start();
  void Set(bool leading);
  // True once the pod carries the state of the last Set() (or of Start()), false after
  // `timeout` without that.
  bool WaitSynced(std::chrono::milliseconds timeout);
  void Stop();

 private:
  void Run();
  // Reads the pod and patches it when its label differs from `leading`.
  Status Converge(bool leading);

  Client* const client_;
  const Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool leading_ = false;
  uint64_t generation_ = 0;         // bumped by every Set()
  uint64_t synced_generation_ = 0;  // the generation the pod last matched
  bool synced_ = false;
  std::thread thread_;
};

}  // namespace shardwise::kube
