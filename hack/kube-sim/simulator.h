// Simulator: a whole simulated cluster API in one object, for the executable and for
// tests that embed it: the Cluster, its controllers, the REST surface on plain HTTP
// and/or HTTPS (with a generated CA), kubeconfig files, and optional persistence of the
// whole store to a JSON state file (saved about once a second after changes and on Stop).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/http/client.h"
#include "common/http/server.h"
#include "common/status.h"
#include "hack/kube-sim/api_server.h"
#include "hack/kube-sim/cluster.h"
#include "hack/kube-sim/controller.h"
#include "hack/kube-sim/hpa_controller.h"
#include "hack/kube-sim/kubelet/kubelet.h"

namespace shardwise::kubesim {

struct SimulatorOptions {
  std::string listen_address = "127.0.0.1:0";  // plain HTTP; "" turns it off
  std::string tls_listen_address;              // HTTPS; "" turns it off
  // Where ca.crt, tls.crt and tls.key go when HTTPS is on; "" = a fresh temp directory.
  std::string cert_dir;
  std::map<std::string, std::string> tokens;  // user -> bearer token
  std::string state_file;                     // "" = no persistence
  int namespace_deletion_delay_ms = 1000;
  std::chrono::milliseconds bookmark_interval{10000};
  size_t watch_history = 20000;      // events kept for resuming watches
  bool aggregated_discovery = true;  // false: legacy discovery only
  // How often the HPA controller syncs each HorizontalPodAutoscaler.
  std::chrono::milliseconds hpa_sync_period{15000};
  // How the HPA controller reads custom and external metrics. Unset: a GET of the path on
  // this simulator's own listener (plain HTTP if on, else HTTPS), which the aggregation
  // layer routes to the APIService that serves it.
  MetricsGetter metrics_getter;
  // Simulated nodes, scheduler and kubelet (kubelet.nodes > 0 turns them on). The
  // simulator fills in api_port (its HTTPS listener) and ca_pem.
  KubeletOptions kubelet;
};

class Simulator {
 public:
  explicit Simulator(SimulatorOptions options);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  Status Start();
  // Ends watches, stops the listeners and controllers, and saves the state file.
  void Stop();

  int port() const { return http_ ? http_->port() : 0; }
  int tls_port() const { return https_ ? https_->port() : 0; }
  std::string url() const;      // "http://127.0.0.1:PORT"
  std::string tls_url() const;  // "https://127.0.0.1:PORT"
  const std::string& ca_pem() const { return ca_pem_; }

  // A kubeconfig for the HTTP (tls=false) or HTTPS endpoint. With `user`, the user's
  // bearer token from the options is included.
  std::string Kubeconfig(bool tls, const std::string& user = "") const;
  Status WriteKubeconfig(const std::string& path, bool tls, const std::string& user = "") const;

  Cluster& cluster() { return cluster_; }
  // Null without nodes.
  Kubelet* kubelet() { return kubelet_.get(); }
  Status SaveState();

 private:
  Status LoadState();
  // The default MetricsGetter: a loopback GET on our own listener.
  Result<std::pair<int, std::string>> GetOwnApi(const std::string& path_and_query);
  void PersistLoop();

  SimulatorOptions options_;
  Cluster cluster_;
  ControllerManager controllers_;
  std::unique_ptr<ApiServer> api_;
  std::unique_ptr<http::Server> http_;
  std::unique_ptr<http::Server> https_;
  std::unique_ptr<Kubelet> kubelet_;
  std::string ca_pem_;
  std::mutex persist_mu_;
  std::condition_variable persist_cv_;
  bool stopping_ = false;
  bool started_ = false;
  std::atomic<bool> serving_{false};  // read by the HPA controller's thread
  uint64_t saved_rv_ = 0;
  std::thread persist_thread_;
  std::unique_ptr<http::Client> metrics_client_;  // used by the controller thread only
};

}  // namespace shardwise::kubesim
