// ServingCertificates: the operator's HTTPS identity, kept in a Secret and published to
// everyone who must trust it.
//
// Operator-managed (the default): the Secret `secret_name` (type kubernetes.io/tls) holds
// tls.crt/tls.key (the serving leaf, SANs = the operator Service's DNS names), ca.crt (the
// CA bundle clients trust) and ca.key. Reconcile() creates what is missing, re-issues the
// leaf once less than `renew_fraction` of its lifetime is left (and when the wanted SANs
// changed), and replaces the CA the same way; during a CA change ca.crt carries the new and
// the old CA so clients holding the old bundle keep trusting the new leaf until they reload.
// Writes are conditional on the Secret's resourceVersion, so two replicas never clobber
// each other (the loser re-reads on its next Reconcile).
//
// User-provided (`user_provided`, e.g. a cert-manager Certificate's Secret): the Secret is
// only read; tls.crt/tls.key are required, ca.crt is published when present.
//
// Either way Reconcile() writes tls.crt, tls.key and ca.crt into `cert_dir` (atomically,
// the key 0600) for the HTTPS servers, applies the ConfigMap `ca_config_map` (key ca.crt) in
// the operator's namespace, and sets spec.caBundle of each named APIService (the aggregator
// then verifies our serving certificate instead of skipping TLS verification).
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/certs/pki.h"
#include "operator/kube/client.h"

namespace shardwise::certs {

inline constexpr char kDefaultSecretName[] = "shardwise-operator-tls";
inline constexpr char kCaConfigMapName[] = "shardwise-ca";
inline constexpr char kCaConfigMapKey[] = "ca.crt";

// The operator Service's in-cluster names: name, name.ns, name.ns.svc, name.ns.svc.cluster.local.
std::vector<std::string> ServiceDnsNames(const std::string& service, const std::string& ns);

// The ConfigMap publishing `ca_pem` (for scraper pods to mount), in namespace `ns`.
nlohmann::json BuildCaConfigMap(const std::string& ns, const std::string& ca_pem,
                                const std::string& name = kCaConfigMapName);

class ServingCertificates {
 public:
  struct Options {
    std::string ns;  // the operator's namespace: Secret and ConfigMap live here
    std::string secret_name = kDefaultSecretName;
    bool user_provided = false;
    std::vector<std::string> dns_names;
    std::vector<std::string> ip_addresses;
    std::chrono::seconds ca_validity{std::chrono::hours(24 * 365 * 10)};
    std::chrono::seconds leaf_validity{std::chrono::hours(24 * 90)};
    double renew_fraction = 1.0 / 3;  // renew when less than this share of the lifetime is left
    std::string ca_config_map = kCaConfigMapName;
    std::vector<std::string> api_services;  // e.g. "v1beta2.custom.metrics.k8s.io"
    std::string cert_dir;                   // where the PEM files are written
    std::function<Clock::time_point()> now = [] { return Clock::now(); };
  };

  ServingCertificates(kube::Client& client, Options options);

  // One pass as described above. `*changed` (optional) is set when the files on disk changed
  // (an HTTPS server must reload them).
  Status Reconcile(bool* changed = nullptr);

  std::string cert_file() const { return options_.cert_dir + "/tls.crt"; }
  std::string key_file() const { return options_.cert_dir + "/tls.key"; }
  std::string ca_file() const { return options_.cert_dir + "/ca.crt"; }
  // The CA bundle last published ("" before the first successful Reconcile()).
  std::string ca_bundle() const;
  // When the current leaf should be renewed (Reconcile() must run by then).
  Clock::time_point renew_at() const;

 private:
  struct Material {
    std::string cert, key, ca_bundle, ca_cert, ca_key;
  };
  Result<Material> ManagedMaterial(const kube::Object* secret, bool* write);
  Status WriteFiles(const Material& m, bool* changed);
  Status Publish(const std::string& ca_bundle);

  kube::Client& client_;
  const Options options_;
  mutable std::mutex mu_;
  std::string ca_bundle_;
  std::string written_cert_, written_key_, written_ca_;
  Clock::time_point renew_at_{};
};

}  // namespace shardwise::certs
