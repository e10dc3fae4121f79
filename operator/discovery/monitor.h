// ServiceMonitor and PodMonitor (monitoring.coreos.com/v1) as plain structs, parsed from the
// JSON the API server returns. Only the fields Shardwise supports are read (the CRD keeps the
// rest); malformed fields and invalid relabelings make the whole monitor invalid, with a
// Status naming the field, as the Prometheus Operator rejects such monitors.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/relabel/config.h"
#include "common/status.h"

namespace shardwise::opdiscovery {

// Which Kubernetes SD role ServiceMonitors use: the Prometheus Operator's
// serviceDiscoveryRole (Prometheus CR spec; here the ScrapePool's), default Endpoints.
// PodMonitors always use the pod role.
enum class ServiceDiscoveryRole { kEndpoints, kEndpointSlice };

// "Endpoints" / "EndpointSlice" as the CRD spells them.
const char* RoleName(ServiceDiscoveryRole role);

// A reference to one key of a Secret or ConfigMap in the monitor's namespace.
struct KeyRef {
  std::string name;
  std::string key;
  bool optional = false;
  bool operator==(const KeyRef&) const = default;
};

struct SecretOrConfigMap {
  std::optional<KeyRef> secret;
  std::optional<KeyRef> config_map;
  bool operator==(const SecretOrConfigMap&) const = default;
};

struct TlsConfig {
  SecretOrConfigMap ca;
  SecretOrConfigMap cert;
  std::optional<KeyRef> key_secret;
  std::string server_name;
  bool insecure_skip_verify = false;
  // Paths inside the scraper pod (ServiceMonitor only, as in the Prometheus Operator).
  std::string ca_file, cert_file, key_file;
  bool operator==(const TlsConfig&) const = default;
};

struct Authorization {
  std::string type = "Bearer";
  std::optional<KeyRef> credentials;
  bool operator==(const Authorization&) const = default;
};

struct BasicAuth {
  KeyRef username;
  KeyRef password;
  bool operator==(const BasicAuth&) const = default;
};

struct SelectorRequirement {
  std::string key;
  std::string op;  // In, NotIn, Exists, DoesNotExist
  std::vector<std::string> values;
};

struct LabelSelector {
  std::map<std::string, std::string> match_labels;
  std::vector<SelectorRequirement> match_expressions;
  // Kubernetes semantics: every matchLabels pair and every requirement holds.
  bool Matches(const std::map<std::string, std::string>& labels) const;
};

struct MonitorEndpoint {
  std::string port;         // port name (a regex in the generated keep rule)
  std::string target_port;  // targetPort as written, "" when absent
  bool target_port_is_number = false;
  int port_number = 0;  // PodMonitor portNumber, 0 when absent
  std::string path;     // "" = default
  std::string scheme;   // lowercased; "" = default
  std::map<std::string, std::vector<std::string>> params;
  std::string interval;        // "" = pool default
  std::string scrape_timeout;  // "" = pool default
  bool honor_labels = false;
  std::optional<bool> honor_timestamps;
  bool filter_running = true;
  std::vector<relabel::RelabelConfig> relabelings;
  std::vector<relabel::RelabelConfig> metric_relabelings;
  std::optional<TlsConfig> tls_config;
  std::optional<Authorization> authorization;
  std::optional<KeyRef> bearer_token_secret;
  std::optional<BasicAuth> basic_auth;

  // What the generated "endpoint" label says: port, else targetPort, else portNumber.
  std::string EndpointLabel() const;
};

struct Limits {
  uint64_t sample_limit = 0;  // 0 = none, for all
  uint64_t target_limit = 0;
  uint64_t label_limit = 0;
  uint64_t label_name_length_limit = 0;
  uint64_t label_value_length_limit = 0;
};

struct Monitor {
  enum class Kind { kServiceMonitor, kPodMonitor };
  Kind kind = Kind::kServiceMonitor;
  std::string ns;
  std::string name;
  LabelSelector selector;
  bool any_namespace = false;
  std::vector<std::string> match_namespaces;
  std::string job_label;
  std::vector<std::string> target_labels;  // ServiceMonitor only
  std::vector<std::string> pod_target_labels;
  Limits limits;
  std::vector<MonitorEndpoint> endpoints;

  // "serviceMonitor/<ns>/<name>/<i>" or "podMonitor/<ns>/<name>/<i>", as the operator names jobs.
  std::string JobName(size_t endpoint_index) const;
  // "ServiceMonitor ns/name", for messages.
  std::string Describe() const;
};

// A metav1.LabelSelector (matchLabels, matchExpressions); `path` prefixes error messages.
// Also used for ScrapePool selectors.
Result<LabelSelector> ParseLabelSelector(const nlohmann::json& selector, const std::string& path);

// Parses either kind, dispatching on "kind".
Result<Monitor> ParseMonitor(const nlohmann::json& object);

}  // namespace shardwise::opdiscovery
