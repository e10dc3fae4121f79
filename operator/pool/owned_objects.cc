#include "operator/pool/owned_objects.h"

#include <yaml-cpp/yaml.h>
#include <set>

#include "common/duration.h"
#include "operator/endpoint/naming.h"

namespace shardwise::pool {

using nlohmann::json;

namespace {

constexpr char kSecretsDir[] = "/etc/shardwise/secrets";
constexpr char kConfigMapsDir[] = "/etc/shardwise/configmaps";

json Metadata(const PoolSpec& pool, const std::string& name, json labels) {
  labels["app.kubernetes.io/name"] = "shardwise-scraper";
  labels["app.kubernetes.io/managed-by"] = "shardwise-operator";
  labels[kPoolLabel] = pool.name;
  return {{"name", name},
          {"namespace", pool.ns},
          {"labels", std::move(labels)},
          {"ownerReferences", json::array({OwnerReference(pool)})}};
}

std::string ConfigMapName(const PoolSpec& pool) { return "shardwise-" + pool.name + "-config"; }

// Secret/ConfigMap references of the remote-write section, to mount as volumes.
void CollectRefs(const json& v, std::set<std::string>* secrets, std::set<std::string>* config_maps,
                 bool in_config_map = false) {
  if (v.is_object()) {
    if (v.contains("name") && v.contains("key") && v["name"].is_string()) {
      (in_config_map ? config_maps : secrets)->insert(v["name"].get<std::string>());
      return;
    }
    for (const auto& [k, child] : v.items())
      CollectRefs(child, secrets, config_maps, k == "configMap");
  } else if (v.is_array()) {
    for (const auto& child : v) CollectRefs(child, secrets, config_maps, false);
  }
}

std::string RefPath(const json& ref, bool config_map) {
  return std::string(config_map ? kConfigMapsDir : kSecretsDir) + "/" + ref.value("name", "") +
         "/" + ref.value("key", "");
}

// Prometheus Operator camelCase relabel config → Prometheus snake_case.
YAML::Node RelabelToYaml(const json& r) {
  YAML::Node n;
  if (r.contains("sourceLabels")) {
    for (const auto& l : r["sourceLabels"]) n["source_labels"].push_back(l.get<std::string>());
  }
  static const std::pair<const char*, const char*> kMap[] = {{"separator", "separator"},
                                                             {"regex", "regex"},
                                                             {"targetLabel", "target_label"},
                                                             {"replacement", "replacement"}};
  for (const auto& [from, to] : kMap) {
    if (r.contains(from) && r[from].is_string()) n[to] = r[from].get<std::string>();
  }
  if (r.contains("modulus")) n["modulus"] = r["modulus"].get<uint64_t>();
  if (r.contains("action")) {
    std::string a = r["action"].get<std::string>();
    for (auto& c : a) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    n["action"] = a;
  }
  return n;
}

}  // namespace

json OwnerReference(const PoolSpec& pool) {
  return {{"apiVersion", "shardwise.io/v1alpha1"},
          {"kind", "ScrapePool"},
          {"name", pool.name},
          {"uid", pool.uid},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

std::string PodSelector(const PoolSpec& pool) { return std::string(kPoolLabel) + "=" + pool.name; }

std::string ScrapeShardName(const std::string& pool, int shard) {
  return pool + "-" + std::to_string(shard);
}

json BuildStatefulSet(const PoolSpec& pool, int replica, int pods,
                      const OperatorSettings& settings) {
  std::string name = endpoint::StatefulSetName(pool.name, replica);
  json selector = {{"app.kubernetes.io/name", "shardwise-scraper"},
                   {kPoolLabel, pool.name},
                   {kReplicaLabel, std::to_string(replica)}};
  static const json kEmpty = json::object();
  const json& sc = pool.scraper.is_object() ? pool.scraper : kEmpty;
  json args =
      // The pod IP, not every interface: on a cluster where pods share a network stack (the
      // local cluster) two shards binding ":9091" would collide; on a real one it is the same.
      json::array({"--web.listen-address=$(POD_IP):" + std::to_string(kScraperPort),
                   "--operator-url=" + settings.operator_url,
                   "--config.file=/etc/shardwise/config/scraper.yaml", "--storage.tsdb.path=/data",
                   "--storage.tsdb.retention.time=" + FormatDuration(pool.retention)});
  if (pool.replicas_per_shard > 1) {
    args.push_back("--remote-write.replica-label=shardwise_replica");
  }
  args.push_back("--operator.token-file=" + std::string(kOperatorCredentialsDir) + "/token");
  if (!settings.operator_ca_config_map.empty()) {
    args.push_back("--operator.ca-file=" + std::string(kOperatorCredentialsDir) + "/ca.crt");
  }
  for (const auto& a : sc.value("args", json::array())) args.push_back(a);
  json env = json::array(
      {{{"name", "POD_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
       {{"name", "POD_NAMESPACE"},
        {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.namespace"}}}}}},
       {{"name", "POD_IP"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "status.podIP"}}}}}}});
  for (const auto& e : sc.value("env", json::array())) env.push_back(e);

  json mounts =
      json::array({{{"name", "data"}, {"mountPath", "/data"}},
                   {{"name", "config"}, {"mountPath", "/etc/shardwise/config"}, {"readOnly", true}},
                   {{"name", "operator-credentials"},
                    {"mountPath", kOperatorCredentialsDir},
                    {"readOnly", true}}});
  // The only credential a scraper pod holds: a short-lived token for the discovery endpoint
  // (audience shardwise, useless against the API server), plus the operator's CA.
  json credentials = json::array({{{"serviceAccountToken",
                                    {{"audience", kTokenAudience},
                                     {"expirationSeconds", settings.token_expiration_seconds},
                                     {"path", "token"}}}}});
  if (!settings.operator_ca_config_map.empty()) {
    credentials.push_back({{"configMap",
                            {{"name", settings.operator_ca_config_map},
                             {"items", json::array({{{"key", "ca.crt"}, {"path", "ca.crt"}}})}}}});
  }
  json volumes = json::array(
      {{{"name", "config"}, {"configMap", {{"name", ConfigMapName(pool)}}}},
       {{"name", "operator-credentials"}, {"projected", {{"sources", std::move(credentials)}}}}});
  std::set<std::string> secrets, config_maps;
  CollectRefs(pool.remote_write, &secrets, &config_maps);
  for (const auto& s : secrets) {
    mounts.push_back({{"name", "secret-" + s},
                      {"mountPath", std::string(kSecretsDir) + "/" + s},
                      {"readOnly", true}});
    volumes.push_back({{"name", "secret-" + s}, {"secret", {{"secretName", s}}}});
  }
  for (const auto& c : config_maps) {
    mounts.push_back({{"name", "configmap-" + c},
                      {"mountPath", std::string(kConfigMapsDir) + "/" + c},
                      {"readOnly", true}});
    volumes.push_back({{"name", "configmap-" + c}, {"configMap", {{"name", c}}}});
  }
  if (pool.volume_claim_template.is_null()) {
    volumes.push_back({{"name", "data"}, {"emptyDir", json::object()}});
  }
  json container = {
      {"name", "scraper"},
      {"image", sc.value("image", settings.default_image)},
      {"args", std::move(args)},
      {"env", std::move(env)},
      {"ports",
       json::array({{{"name", "http"}, {"containerPort", kScraperPort}, {"protocol", "TCP"}}})},
      // Probed every 2 s, not the kubelet's default 10 s: a new scraper shows Ready soon
      // after it runs its first plan (until then its shard is "starting", docs/handoff.md).
      {"readinessProbe",
       {{"httpGet", {{"path", "/readyz"}, {"port", "http"}}}, {"periodSeconds", 2}}},
      {"livenessProbe", {{"httpGet", {{"path", "/healthz"}, {"port", "http"}}}}},
      // The scraper serves HTTP once its WAL is replayed, which can take minutes for a large
      // head: liveness (3 x 10 s) would kill it mid-replay, over and over. Kubernetes holds
      // liveness and readiness until this passes; checked every second so readiness is not
      // delayed, for up to 30 minutes.
      {"startupProbe",
       {{"httpGet", {{"path", "/healthz"}, {"port", "http"}}},
        {"periodSeconds", 1},
        {"failureThreshold", 1800}}},
      {"securityContext",
       {{"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"capabilities", {{"drop", json::array({"ALL"})}}}}},
      {"volumeMounts", std::move(mounts)}};
  if (sc.contains("resources")) container["resources"] = sc["resources"];
  json pod_spec = {
      {"serviceAccountName", endpoint::ScraperServiceAccountName(pool.name)},
      {"automountServiceAccountToken", false},
      {"securityContext",
       {{"runAsNonRoot", true},
        {"runAsUser", 65532},
        {"runAsGroup", 65532},
        {"fsGroup", 65532},
        {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"terminationGracePeriodSeconds", settings.termination_grace_period_seconds},
      {"affinity",
       {{"podAntiAffinity",
         {{"preferredDuringSchedulingIgnoredDuringExecution",
           json::array({{{"weight", 100},
                         {"podAffinityTerm",
                          {{"labelSelector", {{"matchLabels", {{kPoolLabel, pool.name}}}}},
                           {"topologyKey", "kubernetes.io/hostname"}}}}})}}}}},
      {"containers", json::array({std::move(container)})},
      {"volumes", std::move(volumes)}};
  if (sc.contains("nodeSelector")) pod_spec["nodeSelector"] = sc["nodeSelector"];
  if (sc.contains("tolerations")) pod_spec["tolerations"] = sc["tolerations"];

  json spec = {{"replicas", pods},
               {"serviceName", "shardwise-" + pool.name},
               {"podManagementPolicy", "Parallel"},
               {"selector", {{"matchLabels", selector}}},
               {"template", {{"metadata", {{"labels", selector}}}, {"spec", std::move(pod_spec)}}}};
  if (!pool.volume_claim_template.is_null()) {
    json claim = pool.volume_claim_template;
    claim["metadata"]["name"] = "data";
    spec["volumeClaimTemplates"] = json::array({std::move(claim)});
    spec["persistentVolumeClaimRetentionPolicy"] = {{"whenScaled", pool.pvc_when_scaled},
                                                    {"whenDeleted", pool.pvc_when_deleted}};
  }
  return {{"apiVersion", "apps/v1"},
          {"kind", "StatefulSet"},
          {"metadata", Metadata(pool, name, {{kReplicaLabel, std::to_string(replica)}})},
          {"spec", std::move(spec)}};
}

json BuildServiceAccount(const PoolSpec& pool) {
  return {{"apiVersion", "v1"},
          {"kind", "ServiceAccount"},
          {"metadata", Metadata(pool, endpoint::ScraperServiceAccountName(pool.name), {})},
          {"automountServiceAccountToken", false}};
}

json BuildService(const PoolSpec& pool) {
  return {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", Metadata(pool, "shardwise-" + pool.name, json::object())},
      {"spec",
       {{"clusterIP", "None"},
        {"selector", {{"app.kubernetes.io/name", "shardwise-scraper"}, {kPoolLabel, pool.name}}},
        {"ports", json::array({{{"name", "http"},
                                {"port", kScraperPort},
                                {"targetPort", "http"},
                                {"protocol", "TCP"}}})}}}};
}

json BuildPodDisruptionBudget(const PoolSpec& pool) {
  return {{"apiVersion", "policy/v1"},
          {"kind", "PodDisruptionBudget"},
          {"metadata", Metadata(pool, "shardwise-" + pool.name, json::object())},
          {"spec",
           {{"maxUnavailable", 1},
            {"selector",
             {{"matchLabels",
               {{"app.kubernetes.io/name", "shardwise-scraper"}, {kPoolLabel, pool.name}}}}}}}};
}

json BuildScrapeShard(const PoolSpec& pool, int shard) {
  return {{"apiVersion", "shardwise.io/v1alpha1"},
          {"kind", "ScrapeShard"},
          {"metadata", Metadata(pool, ScrapeShardName(pool.name, shard),
                                {{kShardLabel, std::to_string(shard)}})},
          {"spec", {{"pool", pool.name}, {"index", shard}}}};
}

namespace {

// The scraper config's remote_write list (Prometheus's shape).
YAML::Node RemoteWriteYaml(const PoolSpec& pool) {
  YAML::Node list(YAML::NodeType::Sequence);
  for (const auto& rw : pool.remote_write) {
    YAML::Node n;
    n["url"] = rw.value("url", "");
    if (rw.contains("name")) n["name"] = rw["name"].get<std::string>();
    if (rw.contains("remoteTimeout")) n["remote_timeout"] = rw["remoteTimeout"].get<std::string>();
    if (rw.contains("headers")) {
      for (const auto& [k, v] : rw["headers"].items()) n["headers"][k] = v.get<std::string>();
    }
    if (rw.contains("basicAuth")) {
      const json& b = rw["basicAuth"];
      if (b.contains("username")) n["basic_auth"]["username_file"] = RefPath(b["username"], false);
      if (b.contains("password")) n["basic_auth"]["password_file"] = RefPath(b["password"], false);
    }
    if (rw.contains("authorization")) {
      const json& a = rw["authorization"];
      n["authorization"]["type"] = a.value("type", "Bearer");
      if (a.contains("credentials"))
        n["authorization"]["credentials_file"] = RefPath(a["credentials"], false);
    }
    if (rw.contains("tlsConfig")) {
      const json& t = rw["tlsConfig"];
      YAML::Node tls;
      for (const char* k : {"ca", "cert"}) {
        if (!t.contains(k)) continue;
        std::string key = std::string(k) + "_file";
        if (t[k].contains("secret")) tls[key] = RefPath(t[k]["secret"], false);
        if (t[k].contains("configMap")) tls[key] = RefPath(t[k]["configMap"], true);
      }
      if (t.contains("keySecret")) tls["key_file"] = RefPath(t["keySecret"], false);
      if (t.contains("caFile")) tls["ca_file"] = t["caFile"].get<std::string>();
      if (t.contains("certFile")) tls["cert_file"] = t["certFile"].get<std::string>();
      if (t.contains("keyFile")) tls["key_file"] = t["keyFile"].get<std::string>();
      if (t.contains("serverName")) tls["server_name"] = t["serverName"].get<std::string>();
      if (t.contains("insecureSkipVerify"))
        tls["insecure_skip_verify"] = t["insecureSkipVerify"].get<bool>();
      n["tls_config"] = tls;
    }
    if (rw.contains("queueConfig")) {
      const json& q = rw["queueConfig"];
      static const std::pair<const char*, const char*> kMap[] = {
          {"capacity", "capacity"},
          {"minShards", "min_shards"},
          {"maxShards", "max_shards"},
          {"maxSamplesPerSend", "max_samples_per_send"}};
      for (const auto& [from, to] : kMap) {
        if (q.contains(from)) n["queue_config"][to] = q[from].get<int64_t>();
      }
      static const std::pair<const char*, const char*> kDur[] = {
          {"batchSendDeadline", "batch_send_deadline"},
          {"minBackoff", "min_backoff"},
          {"maxBackoff", "max_backoff"}};
      for (const auto& [from, to] : kDur) {
        if (q.contains(from)) n["queue_config"][to] = q[from].get<std::string>();
      }
      if (q.contains("retryOnRateLimit"))
        n["queue_config"]["retry_on_http_429"] = q["retryOnRateLimit"].get<bool>();
    }
    if (rw.contains("writeRelabelConfigs")) {
      for (const auto& r : rw["writeRelabelConfigs"])
        n["write_relabel_configs"].push_back(RelabelToYaml(r));
    }
    list.push_back(n);
  }
  return list;
}

// Scalars stay text: the scraper parses this as YAML again (JSON is YAML).
json YamlToJson(const YAML::Node& n) {
  if (n.IsMap()) {
    json out = json::object();
    for (const auto& kv : n) out[kv.first.Scalar()] = YamlToJson(kv.second);
    return out;
  }
  if (n.IsSequence()) {
    json out = json::array();
    for (const auto& e : n) out.push_back(YamlToJson(e));
    return out;
  }
  if (n.IsScalar()) return n.Scalar();
  return nullptr;
}

}  // namespace

json RemoteWritePlanConfig(const PoolSpec& pool) { return YamlToJson(RemoteWriteYaml(pool)); }

std::string BuildScraperConfig(const PoolSpec& pool) {
  YAML::Node root;
  YAML::Node global;
  global["external_labels"] = YAML::Node(YAML::NodeType::Map);
  for (const auto& l : pool.external_labels) global["external_labels"][l.name] = l.value;
  root["global"] = global;
  root["remote_write"] = RemoteWriteYaml(pool);
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

json BuildConfigMap(const PoolSpec& pool) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", Metadata(pool, ConfigMapName(pool), json::object())},
          {"data", {{"scraper.yaml", BuildScraperConfig(pool)}}}};
}

}  // namespace shardwise::pool
