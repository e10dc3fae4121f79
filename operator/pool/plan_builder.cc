#include "operator/pool/plan_builder.h"

#include <optional>
#include <unordered_map>

#include "common/base64.h"
#include "common/relabel/config.h"
#include "operator/pool/owned_objects.h"

namespace shardwise::pool {

using nlohmann::json;

namespace {

// Reads one key of a Secret (base64 data or stringData) or a ConfigMap (data).
Result<std::string> ReadRef(const opdiscovery::ClusterView& view, const std::string& ns,
                            const opdiscovery::KeyRef& ref, bool config_map) {
  const json* obj = config_map ? view.ConfigMap(ns, ref.name) : view.Secret(ns, ref.name);
  std::string what = std::string(config_map ? "ConfigMap" : "Secret") + " " + ns + "/" + ref.name;
  if (obj == nullptr) return Status::NotFound(what + " not found");
  const json& data = obj->value("data", json::object());
  auto it = data.find(ref.key);
  if (it == data.end() || !it->is_string()) {
    return Status::NotFound(what + " has no key \"" + ref.key + "\"");
  }
  if (config_map) return it->get<std::string>();
  auto decoded = Base64Decode(it->get<std::string>());
  if (!decoded.ok()) return decoded.status().WithContext(what + " key " + ref.key);
  return *decoded;
}

Status FillSecrets(const opdiscovery::ScrapeConfig& c, const opdiscovery::ClusterView& view,
                   plan::Target* t) {
  const std::string& ns = c.monitor_namespace;
  if (c.tls_config) {
    const auto& tls = *c.tls_config;
    plan::TlsConfig out;
    out.server_name = tls.server_name;
    out.insecure_skip_verify = tls.insecure_skip_verify;
    auto read = [&](const opdiscovery::SecretOrConfigMap& s, std::string* dst) -> Status {
      if (s.secret) {
        auto v = ReadRef(view, ns, *s.secret, false);
        if (!v.ok()) return s.secret->optional ? Status::OK() : v.status();
        *dst = *v;
      } else if (s.config_map) {
        auto v = ReadRef(view, ns, *s.config_map, true);
        if (!v.ok()) return s.config_map->optional ? Status::OK() : v.status();
        *dst = *v;
      }
      return Status::OK();
    };
    SHARDWISE_RETURN_IF_ERROR(read(tls.ca, &out.ca_pem));
    SHARDWISE_RETURN_IF_ERROR(read(tls.cert, &out.cert_pem));
    if (tls.key_secret) {
      auto v = ReadRef(view, ns, *tls.key_secret, false);
      if (!v.ok() && !tls.key_secret->optional) return v.status();
      if (v.ok()) out.key_pem = *v;
    }
    t->tls = out;
  }
  plan::AuthConfig auth;
  bool has_auth = false;
  if (c.bearer_token_secret) {
    auto v = ReadRef(view, ns, *c.bearer_token_secret, false);
    if (!v.ok() && !c.bearer_token_secret->optional) return v.status();
    if (v.ok()) auth.bearer_token = *v;
    has_auth = true;
  }
  if (c.authorization && c.authorization->credentials) {
    auto v = ReadRef(view, ns, *c.authorization->credentials, false);
    if (!v.ok() && !c.authorization->credentials->optional) return v.status();
    if (v.ok()) auth.bearer_token = *v;
    has_auth = true;
  }
  if (c.basic_auth) {
    auto u = ReadRef(view, ns, c.basic_auth->username, false);
    auto p = ReadRef(view, ns, c.basic_auth->password, false);
    if (!u.ok()) return u.status();
    if (!p.ok()) return p.status();
    auth.basic_username = *u;
    auth.basic_password = *p;
    has_auth = true;
  }
  if (has_auth) t->auth = auth;
  return Status::OK();
}

// The Prometheus Operator's camelCase form, which relabel::FromJson reads back.
json MetricRelabelingsJson(const std::vector<relabel::RelabelConfig>& configs) {
  json out = json::array();
  for (const auto& c : configs) {
    json j = {{"action", std::string(relabel::ActionName(c.action))},
              {"separator", c.separator},
              {"regex", c.regex},
              {"replacement", c.replacement}};
    if (!c.source_labels.empty()) j["sourceLabels"] = c.source_labels;
    if (!c.target_label.empty()) j["targetLabel"] = c.target_label;
    if (c.modulus) j["modulus"] = c.modulus;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

std::vector<std::vector<plan::ScrapePlan>> BuildPlans(
    const PoolSpec& pool, const std::vector<opdiscovery::Target>& targets,
    const assign::Assignment& assignment, const opdiscovery::ClusterView& view,
    std::vector<std::string>* errors, const ReleasedTargets* released) {
  size_t shards = assignment.shards.size();
  std::vector<std::vector<plan::ScrapePlan>> plans(shards);
  std::unordered_map<uint64_t, const opdiscovery::Target*> by_id;
  for (const auto& t : targets) by_id.emplace(t.id, &t);

  std::vector<plan::Target> built(targets.size());
  std::unordered_map<uint64_t, size_t> built_index;
  for (size_t i = 0; i < targets.size(); ++i) {
    const auto& d = targets[i];
    const auto& c = *d.config;
    plan::Target& t = built[i];
    t.id = d.id;
    t.job = c.job_name;
    t.labels = d.labels;
    t.scheme = d.scheme;
    t.address = d.address;
    t.path = d.metrics_path;
    t.params = d.params;
    t.interval = std::chrono::milliseconds(d.interval_ms);
    t.timeout = std::chrono::milliseconds(d.timeout_ms);
    t.honor_labels = c.honor_labels;
    t.honor_timestamps = c.honor_timestamps;
    t.sample_limit = c.limits.sample_limit;
    t.label_limit = c.limits.label_limit;
    t.label_name_length_limit = c.limits.label_name_length_limit;
    t.label_value_length_limit = c.limits.label_value_length_limit;
    t.metric_relabelings = MetricRelabelingsJson(c.metric_relabel_configs);
    Status s = FillSecrets(c, view, &t);
    if (!s.ok()) {
      if (errors) errors->push_back(c.job_name + " " + d.address + ": " + s.message());
      continue;
    }
    built_index.emplace(d.id, i);
  }

  // A pool without endpoints leaves the scrapers' own (config file) in place.
  std::optional<json> remote_write;
  if (!pool.remote_write.empty()) remote_write = RemoteWritePlanConfig(pool);
  for (size_t shard = 0; shard < shards; ++shard) {
    plan::ScrapePlan base;
    base.remote_write = remote_write;
    base.pool_namespace = pool.ns;
    base.pool = pool.name;
    base.shard = static_cast<int>(shard);
    base.external_labels = pool.external_labels;
    for (uint64_t id : assignment.ScrapeSet(static_cast<uint32_t>(shard))) {
      auto it = built_index.find(id);
      if (it == built_index.end()) continue;
      plan::Target t = built[it->second];
      if (const assign::Handoff* h = assignment.FindHandoff(id)) {
        if (h->from == shard) t.handoff = plan::Handoff::kOutgoing;
        if (h->to == shard) t.handoff = plan::Handoff::kIncoming;
        if (h->cutover != assign::Time{}) {
          t.cutover_unix_ms =
              std::chrono::duration_cast<std::chrono::milliseconds>(h->cutover.time_since_epoch())
                  .count();
        }
      }
      base.targets.push_back(std::move(t));
    }
    std::sort(base.targets.begin(), base.targets.end(),
              [](const plan::Target& a, const plan::Target& b) { return a.id < b.id; });
    if (released != nullptr) base.released = released->Of(static_cast<uint32_t>(shard));
    for (int r = 0; r < pool.replicas_per_shard; ++r) {
      plan::ScrapePlan p = base;
      p.replica = r;
      plans[shard].push_back(std::move(p));
    }
  }
  return plans;
}

}  // namespace shardwise::pool
