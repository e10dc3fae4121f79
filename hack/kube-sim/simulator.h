// Simulator: a whole simulated cluster API in one object, for the executable and for
// tests that embed it: the Cluster, its controllers, the REST surface on plain HTTP
// and/or HTTPS (with a generated CA), kubeconfig files, and optional persistence of the
// whole store to a JSON state file (saved about once a second after changes and on Stop).
// Authentication, RBAC, ServiceAccount tokens and their controllers live in auth/; see
// docs/local-cluster.md for who may do what.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/http/server.h"
#include "common/status.h"
#include "hack/kube-sim/aggregator.h"
#include "hack/kube-sim/api_server.h"
#include "hack/kube-sim/auth/auth_api.h"
#include "hack/kube-sim/auth/authenticator.h"
#include "hack/kube-sim/certs.h"
#include "hack/kube-sim/cluster.h"
#include "hack/kube-sim/controller.h"
#include "hack/kube-sim/hpa_controller.h"
#include "hack/kube-sim/kubelet/address_block.h"
#include "hack/kube-sim/kubelet/kubelet.h"

namespace shardwise::kubesim {

struct SimulatorOptions {
  std::string listen_address = "127.0.0.1:0";  // plain HTTP; "" turns it off
  std::string tls_listen_address;              // HTTPS; "" turns it off
  // Where ca.crt, tls.crt and tls.key go when HTTPS is on; "" = a fresh temp directory.
  std::string cert_dir;
  std::map<std::string, std::string> tokens;  // user -> bearer token
  // Groups of the token users; a user not listed here is in system:masters (an admin).
  std::map<std::string, std::vector<std::string>> token_groups;
  std::string state_file;  // "" = no persistence
  int namespace_deletion_delay_ms = 1000;
  std::chrono::milliseconds bookmark_interval{10000};
  size_t watch_history = 20000;      // events kept for resuming watches
  bool aggregated_discovery = true;  // false: legacy discovery only
  // How often the HPA controller syncs each HorizontalPodAutoscaler.
  std::chrono::milliseconds hpa_sync_period{15000};
  // How the HPA controller reads custom and external metrics. Unset: through the
  // aggregation layer in process (Aggregator::Get), as the APIService that serves the
  // path routes it.
  MetricsGetter metrics_getter;
  // Simulated nodes, scheduler and kubelet (kubelet.nodes > 0 turns them on). The
  // simulator fills in api_port (its HTTPS listener), ca_pem and issue_token.
  KubeletOptions kubelet;
  // How often APIService backends are probed for their Available condition.
  std::chrono::milliseconds apiservice_check_interval{2000};
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
  std::string url() const;      // "http://HOST:PORT" (HOST: the listen IP, or 127.0.0.1)
  std::string tls_url() const;  // "https://HOST:PORT"
  const std::string& ca_pem() const { return ca_.cert_pem; }
  // The front-proxy CA that signs the aggregator's client certificate.
  const std::string& front_proxy_ca_pem() const { return front_proxy_ca_.cert_pem; }
  // The cluster CA (cert and key), to sign test servers' certificates.
  const CertKey& ca() const { return ca_; }

  // A kubeconfig for the HTTP (tls=false) or HTTPS endpoint. With `user`, the user's
  // bearer token from the options is included; without, the HTTPS one carries the
  // admin's client certificate (CN=kubernetes-admin, O=system:masters) and the plain
  // HTTP one no credentials (the insecure listener's caller is an admin).
  std::string Kubeconfig(bool tls, const std::string& user = "") const;
  Status WriteKubeconfig(const std::string& path, bool tls, const std::string& user = "") const;
  // A kubeconfig authenticating with bearer `token` (e.g. a ServiceAccount's).
  std::string KubeconfigWithToken(bool tls, const std::string& token) const;

  // Issues bound ServiceAccount tokens (the kubelet's hook).
  TokenIssuer token_issuer() { return sa_tokens_->IssuerFn(); }
  ServiceAccountTokens& service_account_tokens() { return *sa_tokens_; }
  RbacAuthorizer& authorizer() { return *authorizer_; }
  AuthApi& auth_api() { return *auth_api_; }
  // The aggregation layer; Get() is the HPA controller's way to aggregated APIs.
  Aggregator& aggregator() { return *aggregator_; }
  std::function<Result<std::pair<int, std::string>>(const std::string&)> aggregated_get() {
    return [this](const std::string& path_and_query) { return aggregator_->Get(path_and_query); };
  }

  Cluster& cluster() { return cluster_; }
  // Null without nodes.
  Kubelet* kubelet() { return kubelet_.get(); }
  Status SaveState();

 private:
  Status LoadState();
  void PersistLoop();
  Status MakePki();
  std::string KubeconfigText(bool tls, const std::string& user_name,
                             const std::string& user_body) const;

  SimulatorOptions options_;
  Cluster cluster_;
  ControllerManager controllers_;
  std::unique_ptr<ApiServer> api_;
  std::unique_ptr<http::Server> http_;
  std::unique_ptr<http::Server> https_;
  std::unique_ptr<Kubelet> kubelet_;
  std::optional<AddressBlock> addresses_;  // claimed when there are nodes
  CertKey ca_, serving_, admin_, front_proxy_ca_, front_proxy_client_;
  std::unique_ptr<ServiceAccountTokens> sa_tokens_;
  std::unique_ptr<RbacAuthorizer> authorizer_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<AuthApi> auth_api_;
  std::unique_ptr<Aggregator> aggregator_;
  std::mutex persist_mu_;
  std::condition_variable persist_cv_;
  bool stopping_ = false;
  bool started_ = false;
  uint64_t saved_rv_ = 0;
  std::thread persist_thread_;
};

}  // namespace shardwise::kubesim
