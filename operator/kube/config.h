// Config: where the API server is and how to authenticate to it, from a kubeconfig file
// or from the in-cluster service account.
//
// Kubeconfig: the current context (or the one named), its cluster's server,
// certificate-authority(-data), insecure-skip-tls-verify and tls-server-name, its user's
// client-certificate(-data)/client-key(-data), token/tokenFile, username/password.
// Relative file paths are resolved against the kubeconfig's folder. *-data fields are
// base64-decoded into the *_pem fields. exec and auth-provider plugins are not supported
// (an error says so).
//
// In cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, the service
// account's ca.crt, and its token *file* — the kubelet rotates it, so the client re-reads
// it (see TokenSource) rather than caching the token.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace shardwise::kube {

struct Config {
  std::string server;  // "https://host:port" (or http:// for the simulator)

  // TLS. A *_pem field, when set, wins over the matching *_file.
  std::string ca_file;
  std::string ca_pem;
  std::string client_cert_file;
  std::string client_cert_pem;
  std::string client_key_file;
  std::string client_key_pem;
  std::string tls_server_name;
  bool insecure_skip_tls_verify = false;

  // Authentication. bearer_token_file wins over bearer_token when both are set.
  std::string bearer_token;
  std::string bearer_token_file;
  std::string username;
  std::string password;

  // The context's namespace (or the service account's); "" means "default".
  std::string default_namespace;

  // Client-side behaviour.
  double qps = 20;  // token bucket shared by every request of one Client
  int burst = 30;
  std::string user_agent = "shardwise-operator";
};

// Parses kubeconfig YAML. `base_dir` resolves relative paths; `context` "" means
// current-context.
Result<Config> ParseKubeconfig(std::string_view yaml, std::string_view base_dir,
                               std::string_view context = "");
Result<Config> LoadKubeconfig(const std::string& path, std::string_view context = "");

// In-cluster config from the environment and `service_account_dir` (normally
// /var/run/secrets/kubernetes.io/serviceaccount; a parameter so tests can point elsewhere).
Result<Config> InClusterConfig(
    std::string_view service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// The usual lookup order: $KUBECONFIG (first entry), then in-cluster, then ~/.kube/config.
Result<Config> DefaultConfig();

// RFC 4648 base64 (whitespace ignored); an error for anything else.

}  // namespace shardwise::kube
