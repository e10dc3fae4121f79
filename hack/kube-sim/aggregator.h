// Aggregator: kube-apiserver's aggregation layer (kube-aggregator) for APIService
// objects (apiregistration.k8s.io/v1) that name a Service.
//
// Requests under /apis/<group>/<version>/ of such an APIService are proxied, after the
// simulator authenticated and authorized the caller, to one ready endpoint of the
// Service (Endpoints or EndpointSlices: pod IP + target port) over TLS. The backend's
// certificate is verified against spec.caBundle for the name <service>.<namespace>.svc
// (or not at all with insecureSkipTLSVerify); the proxy presents the front-proxy client
// certificate (CN front-proxy-client, signed by the front-proxy CA) and names the caller
// in X-Remote-User / X-Remote-Group / X-Remote-Extra-<key>; the caller's own credentials
// are not forwarded. Watches are relayed as they arrive; other responses whole.
//
// A checker thread probes each APIService's discovery document every `check_interval`
// and sets its Available condition: True/Passed, or False with ServiceNotFound,
// ServicePortError, MissingEndpoints or FailedDiscoveryCheck; APIServices without a
// service are Local. Unavailable APIServices answer 503. The checker also keeps the
// resource lists that discovery (/apis) shows for the aggregated groups, and publishes
// kube-system/extension-apiserver-authentication, the ConfigMap extension API servers
// read to trust the front proxy and the cluster's client CA.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/http/client.h"
#include "common/http/server.h"
#include "hack/kube-sim/auth/user.h"
#include "hack/kube-sim/certs.h"
#include "hack/kube-sim/cluster.h"

namespace shardwise::kubesim {

struct AggregatorOptions {
  CertKey front_proxy_client;      // presented to backends
  std::string front_proxy_ca_pem;  // published for backends to verify it
  std::string client_ca_pem;       // the cluster CA, published as client-ca-file
  std::chrono::milliseconds check_interval{2000};
};

class Aggregator {
 public:
  Aggregator(Cluster& cluster, AggregatorOptions options);
  ~Aggregator();
  Aggregator(const Aggregator&) = delete;
  Aggregator& operator=(const Aggregator&) = delete;

  void Start();
  void Stop();

  // True when `req` belongs to a Service-backed APIService; the response was sent.
  bool Serve(const http::Request& req, const UserInfo& user, http::ResponseWriter& w);
  // In-process GET for controllers (the HPA): "/apis/G/V/...?query" → {status, body},
  // as the horizontal-pod-autoscaler ServiceAccount. Unavailable when no APIService
  // serves the path or its backend cannot be reached.
  Result<std::pair<int, std::string>> Get(const std::string& path_and_query);
  // Discovery entries for the aggregated group-versions: {group, version, resources}.
  std::vector<json> DiscoveryEntries();
  // Runs one round of checks now (tests; the thread does it periodically).
  void CheckNow();

 private:
  struct Backend {
    std::string url;  // https://IP:PORT
    http::TlsOptions tls;
  };
  struct Condition {
    bool available = false;
    std::string reason, message;
  };
  // The APIService serving /apis/<group>/<version>, or null.
  std::optional<json> FindApiService(const std::string& group, const std::string& version);
  // The backend of a Service-backed APIService, or a False condition explaining why not.
  Result<Backend> Resolve(const json& apiservice, Condition* why);
  http::ClientRequest BackendRequest(const Backend& b, const std::string& method,
                                     const std::string& path, const std::string& query,
                                     const UserInfo& user);
  void CheckOne(const json& apiservice);
  void SetCondition(const json& apiservice, const Condition& c);
  void PublishAuthConfigMap();
  void Loop();

  Cluster& cluster_;
  const AggregatorOptions options_;
  http::Client client_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, bool> available_;  // APIService name → last check result
  std::map<std::string, json> discovery_;  // "group/version" → resources
  std::thread thread_;
};

}  // namespace shardwise::kubesim
