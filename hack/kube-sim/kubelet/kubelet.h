// Kubelet: the simulated nodes' kubelet (one object for every simulated Node). It
// registers the Nodes, runs each container of each pod bound to them as a real process
// (see launcher.h), and reports status the way kubectl shows it: container states
// (Waiting ContainerCreating/CrashLoopBackOff/ErrImagePull/CreateContainerConfigError,
// Running, Terminated Completed/Error), lastState, restartCount, pod phase and conditions
// (PodScheduled, Initialized, ContainersReady, Ready).
//
// - Pods get a loopback IP from 127.1.0.0/16 (status.podIP); hostNetwork pods the node's
//   IP (127.0.0.2, 127.0.0.3, ...). No traffic goes to a non-loopback address.
// - Init containers run one after the other; then every container starts.
// - restartPolicy Always/OnFailure/Never with CrashLoopBackOff back-off (10 s doubling to
//   300 s, times `backoff_scale`); the first restart is immediate. A process killed from
//   outside is a crash.
// - Probes (startup, then liveness and readiness) with initialDelaySeconds, periodSeconds,
//   timeoutSeconds, failureThreshold and successThreshold; a failed liveness or startup
//   probe restarts the container.
// - Graceful deletion (Cluster::set_graceful_pod_deletion): preStop, SIGTERM to the process
//   group, SIGKILL after the grace period, then the pod object is deleted.
// - Logs: each container instance's stdout/stderr in CRI format (ServeLog serves them).
// - Networking: the ServiceProxy (kube-proxy) and a per-pod /etc/hosts naming every
//   Service, headless Service pods and the pod itself, rewritten in place on change.
// - Stop() stops every pod honouring its grace period; nothing it started keeps running.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/http/server.h"
#include "hack/kube-sim/cluster.h"
#include "hack/kube-sim/kubelet/image_map.h"
#include "hack/kube-sim/kubelet/volumes.h"

namespace shardwise::kubesim {

struct KubeletOptions {
  int nodes = 0;
  std::string node_cpu = "4";
  std::string node_memory = "8Gi";
  std::string node_pods = "110";
  // Pod directories, logs and PVC data. "" = a fresh temporary directory.
  std::string data_dir;
  ImageMap images;
  // The binary that understands `pod-exec` (the simulator's own executable).
  std::string launcher = "/proc/self/exe";
  // KUBERNETES_SERVICE_HOST/PORT for containers (the simulator's HTTPS listener).
  std::string api_host = "127.0.0.1";
  int api_port = 0;
  std::string ca_pem;  // ca.crt in ServiceAccount volumes
  // Issues projected ServiceAccount tokens; unset = opaque placeholder tokens.
  TokenIssuer issue_token;
  // Multiplies the CrashLoopBackOff delays (10 s .. 300 s); tests use e.g. 0.1.
  double backoff_scale = 1.0;
  // Pod IPs are POD_IP_PREFIX + two octets, node InternalIPs NODE_IP_PREFIX + (1 + i): the
  // simulator's claimed AddressBlock (address_block.h).
  std::string pod_ip_prefix = "127.1.";
  std::string node_ip_prefix = "127.0.0.";
};

class Kubelet {
 public:
  Kubelet(Cluster& cluster, KubeletOptions options);
  ~Kubelet();
  Kubelet(const Kubelet&) = delete;
  Kubelet& operator=(const Kubelet&) = delete;

  Status Start();
  // Stops every pod (preStop, SIGTERM, SIGKILL after the grace period) and the proxy.
  void Stop();

  // GET /api/v1/namespaces/NS/pods/NAME/log.
  void ServeLog(const http::Request& req, http::ResponseWriter& w, const std::string& ns,
                const std::string& name);

  const std::string& data_dir() const { return options_.data_dir; }

  struct PodRt;
  struct CtrRt;

 private:
  void Run();
  void Tick(bool refresh);
  void Refresh();
  // Each node's Lease in kube-node-lease, renewed every 10 s as the kubelet's heartbeat
  // (kubectl describe node shows it; a Lease that stops moving means a dead node).
  void RenewNodeLeases();
  // The persistentvolume controller's part for the volumes BindClaim provisions (reclaim
  // policy Delete): a volume whose claim is gone is deleted.
  void ReclaimVolumes();
  // metrics-server's part: PodMetrics and NodeMetrics (metrics.k8s.io/v1beta1) from the
  // containers' process groups, CPU as the rate between two passes, so kubectl top works.
  void PublishMetrics();
  void StepPod(PodRt& p);
  bool SetupPod(PodRt& p);
  void StartContainer(PodRt& p, CtrRt& c);
  void ReapContainer(PodRt& p, CtrRt& c);
  // Kills (OOMKilled) every container whose processes' RSS exceeds its memory limit.
  void EnforceMemoryLimits();
  void AfterExit(PodRt& p, CtrRt& c);
  void RunProbes(PodRt& p, CtrRt& c);
  void BeginTermination(PodRt& p, long long grace_seconds);
  void StepTermination(PodRt& p);
  void CleanupPod(PodRt& p);
  void WriteStatus(PodRt& p);
  json BuildStatus(PodRt& p);
  std::string AllocateIp();
  void UpdateNetworking(const std::vector<json>& pods, const std::vector<json>& services);
  std::string HostsFile(const PodRt& p, const std::vector<json>& pods,
                        const std::vector<json>& services) const;
  Status BindClaim(const json& claim, const std::string& host_dir);
  std::optional<json> GetObject(const std::string& plural, const std::string& ns,
                                const std::string& name);
  void Event(const PodRt& p, const std::string& type, const std::string& reason,
             const std::string& message, const std::string& container = "");

  Cluster& cluster_;
  KubeletOptions options_;
  std::set<std::string> node_names_;
  std::map<std::string, std::string> node_ips_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> stopped_{true};
  std::thread thread_;
  std::shared_ptr<Watcher> watcher_;

  mutable std::mutex mu_;                               // guards pods_ for ServeLog
  std::map<std::string, std::unique_ptr<PodRt>> pods_;  // by uid
  std::set<std::string> used_ips_;
  uint32_t next_ip_ = 0;
  std::chrono::steady_clock::time_point next_memory_check_{};
  std::chrono::steady_clock::time_point last_refresh_;
  std::chrono::steady_clock::time_point last_lease_renewal_;
  // PublishMetrics: each container's CPU seconds at the previous pass ("<pod uid>/<name>"),
  // and the PodMetrics written ("<namespace>/<name>").
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point, double>> cpu_seen_;
  std::set<std::string> pod_metrics_;
  std::vector<json> services_cache_;
  std::vector<json> pods_cache_;

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shardwise::kubesim
