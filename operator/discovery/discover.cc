#include "operator/discovery/discover.h"

#include <re2/re2.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "common/duration.h"
#include "operator/assign/target_id.h"
#include "operator/discovery/generated_relabelings.h"
#include "operator/discovery/kubernetes_sd.h"
#include "operator/discovery/role_labels.h"

namespace shardwise::opdiscovery {
namespace {

// Durations in milliseconds, as the discovery structs keep them.
Result<int64_t> ParseMs(std::string_view text) {
  auto d = ParseDuration(text);
  if (!d.ok()) return d.status();
  return d->count();
}
std::string FormatMs(int64_t ms) { return FormatDuration(std::chrono::milliseconds(ms)); }

using nlohmann::json;

constexpr std::string_view kAddress = "__address__";
constexpr std::string_view kScheme = "__scheme__";
constexpr std::string_view kMetricsPath = "__metrics_path__";
constexpr std::string_view kInterval = "__scrape_interval__";
constexpr std::string_view kTimeout = "__scrape_timeout__";
constexpr std::string_view kParamPrefix = "__param_";
constexpr std::string_view kMetaPrefix = "__meta_";

std::string EndpointPath(const Monitor& m, size_t i) {
  return std::string(m.kind == Monitor::Kind::kServiceMonitor ? "endpoints["
                                                              : "podMetricsEndpoints[") +
         std::to_string(i) + "]";
}

std::map<std::string, std::string> ObjectLabels(const json& object) {
  std::map<std::string, std::string> out;
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return out;
  auto labels = meta->find("labels");
  if (labels == meta->end() || !labels->is_object()) return out;
  for (const auto& [k, v] : labels->items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

// Checks that a referenced Secret or ConfigMap key exists in the monitor's namespace.
Status CheckRef(const std::optional<KeyRef>& ref, bool config_map, const std::string& field,
                const std::string& ns, const ClusterView& view) {
  if (!ref || ref->optional) return Status::OK();
  const char* kind = config_map ? "ConfigMap" : "Secret";
  const json* object = config_map ? view.ConfigMap(ns, ref->name) : view.Secret(ns, ref->name);
  if (object == nullptr) {
    return Status::NotFound(field + ": " + kind + " \"" + ns + "/" + ref->name + "\" not found");
  }
  for (const char* data : {"data", "stringData", "binaryData"}) {
    auto it = object->find(data);
    if (it != object->end() && it->is_object() && it->contains(ref->key)) return Status::OK();
  }
  return Status::NotFound(field + ": key \"" + ref->key + "\" not in " + kind + " \"" + ns + "/" +
                          ref->name + "\"");
}

Status CheckRefs(const MonitorEndpoint& ep, const std::string& path, const std::string& ns,
                 const ClusterView& view) {
  if (ep.tls_config) {
    const TlsConfig& t = *ep.tls_config;
    SHARDWISE_RETURN_IF_ERROR(
        CheckRef(t.ca.secret, false, path + ".tlsConfig.ca.secret", ns, view));
    SHARDWISE_RETURN_IF_ERROR(
        CheckRef(t.ca.config_map, true, path + ".tlsConfig.ca.configMap", ns, view));
    SHARDWISE_RETURN_IF_ERROR(
        CheckRef(t.cert.secret, false, path + ".tlsConfig.cert.secret", ns, view));
    SHARDWISE_RETURN_IF_ERROR(
        CheckRef(t.cert.config_map, true, path + ".tlsConfig.cert.configMap", ns, view));
    SHARDWISE_RETURN_IF_ERROR(
        CheckRef(t.key_secret, false, path + ".tlsConfig.keySecret", ns, view));
  }
  if (ep.authorization) {
    SHARDWISE_RETURN_IF_ERROR(CheckRef(ep.authorization->credentials, false,
                                       path + ".authorization.credentials", ns, view));
  }
  SHARDWISE_RETURN_IF_ERROR(
      CheckRef(ep.bearer_token_secret, false, path + ".bearerTokenSecret", ns, view));
  if (ep.basic_auth) {
    SHARDWISE_RETURN_IF_ERROR(
        CheckRef(ep.basic_auth->username, false, path + ".basicAuth.username", ns, view));
    SHARDWISE_RETURN_IF_ERROR(
        CheckRef(ep.basic_auth->password, false, path + ".basicAuth.password", ns, view));
  }
  return Status::OK();
}

// A named port that no selected Service (or Pod) declares is almost always a typo; the
// operator would silently scrape nothing. When nothing is selected yet, that is not an error.
Status CheckPortName(const Monitor& m, const MonitorEndpoint& ep, const std::string& path,
                     const std::vector<std::string>& namespaces, const ClusterView& view) {
  if (ep.port.empty()) return Status::OK();
  RE2::Options options;
  options.set_log_errors(false);
  RE2 port_re("^(?:" + ep.port + ")$", options);
  if (!port_re.ok()) {
    return Status::InvalidArgument(path + ".port: invalid regex: " + port_re.error());
  }
  std::set<std::string> selected;
  std::set<std::string> names_seen;
  for (const auto& ns : namespaces) {
    const auto& objects =
        m.kind == Monitor::Kind::kServiceMonitor ? view.Services(ns) : view.Pods(ns);
    for (const auto& [name, object] : objects) {
      if (!m.selector.Matches(ObjectLabels(*object))) continue;
      selected.insert(ns + "/" + name);
      auto collect = [&](const json& ports) {
        if (!ports.is_array()) return;
        for (const auto& p : ports) {
          if (p.is_object() && p.contains("name") && p["name"].is_string()) {
            std::string n = p["name"].get<std::string>();
            names_seen.insert(n);
            if (RE2::FullMatch(n, port_re)) return;
          }
        }
      };
      static const json kNoSpec = json::object();
      auto spec_it = object->find("spec");
      const json& spec = spec_it != object->end() ? *spec_it : kNoSpec;
      if (m.kind == Monitor::Kind::kServiceMonitor) {
        if (spec.contains("ports")) collect(spec["ports"]);
      } else {
        for (const char* field : {"containers", "initContainers"}) {
          if (!spec.contains(field) || !spec[field].is_array()) continue;
          for (const auto& c : spec[field]) {
            if (c.is_object() && c.contains("ports")) collect(c["ports"]);
          }
        }
      }
    }
  }
  if (selected.empty()) return Status::OK();
  for (const auto& n : names_seen) {
    if (RE2::FullMatch(n, port_re)) return Status::OK();
  }
  std::string list;
  for (const auto& s : selected) list += (list.empty() ? "" : ", ") + s;
  const char* what = m.kind == Monitor::Kind::kServiceMonitor ? "Service" : "Pod";
  return Status::InvalidArgument(path + ".port: \"" + ep.port + "\" is not a port name of any " +
                                 "selected " + what + " (" + list + ")");
}

Result<std::shared_ptr<ScrapeConfig>> BuildScrapeConfig(const Monitor& m, size_t i,
                                                        const ClusterView& view,
                                                        const DiscoveryOptions& options) {
  const MonitorEndpoint& ep = m.endpoints[i];
  const std::string path = EndpointPath(m, i);
  auto c = std::make_shared<ScrapeConfig>();
  c->job_name = m.JobName(i);
  c->monitor_kind = m.kind;
  c->monitor_namespace = m.ns;
  c->monitor_name = m.name;
  c->endpoint_index = i;

  c->interval_ms = options.default_interval_ms;
  if (!ep.interval.empty()) {
    auto d = ParseMs(ep.interval);
    if (!d.ok()) return d.status().WithContext(path + ".interval");
    c->interval_ms = *d;
  }
  if (c->interval_ms <= 0) return Status::InvalidArgument(path + ".interval must be positive");
  if (!ep.scrape_timeout.empty()) {
    auto d = ParseMs(ep.scrape_timeout);
    if (!d.ok()) return d.status().WithContext(path + ".scrapeTimeout");
    c->timeout_ms = *d;
    if (c->timeout_ms <= 0) {
      return Status::InvalidArgument(path + ".scrapeTimeout must be positive");
    }
    if (c->timeout_ms > c->interval_ms) {
      return Status::InvalidArgument(path + ".scrapeTimeout (" + ep.scrape_timeout +
                                     ") is greater than the interval (" + FormatMs(c->interval_ms) +
                                     ")");
    }
  } else {
    // Prometheus: an unset timeout is the global one, capped at the interval.
    c->timeout_ms = std::min(options.default_timeout_ms, c->interval_ms);
  }
  c->scheme = ep.scheme.empty() ? "http" : ep.scheme;
  c->metrics_path = ep.path.empty() ? "/metrics" : ep.path;
  c->params = ep.params;
  c->honor_labels = ep.honor_labels;
  c->honor_timestamps = ep.honor_timestamps.value_or(true);
  c->limits = m.limits;
  c->relabel_configs = GeneratedRelabelings(m, i, options.role);
  c->metric_relabel_configs = ep.metric_relabelings;
  auto metric = relabel::Relabeler::Compile(c->metric_relabel_configs);
  if (!metric.ok()) return metric.status().WithContext(path + ".metricRelabelings");
  c->metric_relabeler = *metric;
  c->tls_config = ep.tls_config;
  c->authorization = ep.authorization;
  c->bearer_token_secret = ep.bearer_token_secret;
  c->basic_auth = ep.basic_auth;
  SHARDWISE_RETURN_IF_ERROR(CheckRefs(ep, path, m.ns, view));
  return c;
}

bool HasPort(std::string_view addr) {
  if (!addr.empty() && addr[0] == '[') return addr.find("]:") != std::string_view::npos;
  size_t colons = std::count(addr.begin(), addr.end(), ':');
  // A bare IPv6 address cannot take a port either way; leave it alone, as Prometheus does.
  return colons >= 1;
}

// Prometheus's PopulateLabels after relabeling. Returns an error message for a rejected target.
std::optional<std::string> Finish(LabelsBuilder& lb, const ScrapeConfig& config, Target* t) {
  std::string addr(lb.Get(kAddress));
  if (addr.empty()) return "no address";
  if (!HasPort(addr)) {
    std::string scheme(lb.Get(kScheme));
    if (scheme == "http" || scheme.empty()) {
      addr += ":80";
    } else if (scheme == "https") {
      addr += ":443";
    } else {
      return "invalid scheme: \"" + scheme + "\"";
    }
    lb.Set(kAddress, addr);
  }
  if (addr.find('/') != std::string::npos) return "\"" + addr + "\" is not a valid hostname";
  std::string interval(lb.Get(kInterval));
  auto interval_ms = ParseMs(interval);
  if (!interval_ms.ok()) return "error parsing scrape interval: " + interval_ms.status().message();
  if (*interval_ms == 0) return "scrape interval cannot be 0";
  std::string timeout(lb.Get(kTimeout));
  auto timeout_ms = ParseMs(timeout);
  if (!timeout_ms.ok()) return "error parsing scrape timeout: " + timeout_ms.status().message();
  if (*timeout_ms == 0) return "scrape timeout cannot be 0";
  if (*timeout_ms > *interval_ms) {
    return "scrape timeout cannot be greater than scrape interval (\"" + timeout + "\" > \"" +
           interval + "\")";
  }
  if (lb.Get("instance").empty()) lb.Set("instance", addr);
  // __meta_* labels go after relabeling; filtering the sorted result is cheaper than
  // deleting them one by one from the builder.
  const Labels built = lb.Build();
  std::vector<Label> internal;
  internal.reserve(built.size());
  for (const Label& l : built) {
    if (!l.name.starts_with(kMetaPrefix)) internal.push_back(l);
  }
  t->internal_labels = Labels::FromSorted(std::move(internal));
  std::vector<Label> final_labels;
  t->params = config.params;
  for (const Label& l : t->internal_labels) {
    if (l.name.starts_with(kParamPrefix)) {
      auto& values = t->params[l.name.substr(kParamPrefix.size())];
      if (values.empty()) {
        values.push_back(l.value);
      } else {
        values[0] = l.value;
      }
    }
    if (!l.name.starts_with("__")) final_labels.push_back(l);
  }
  t->labels = Labels::FromSorted(std::move(final_labels));
  t->address = addr;
  t->scheme = std::string(t->internal_labels.Get(kScheme));
  t->metrics_path = std::string(t->internal_labels.Get(kMetricsPath));
  t->interval_ms = *interval_ms;
  t->timeout_ms = *timeout_ms;
  assign::Params params;
  for (const auto& [k, values] : t->params) {
    for (const auto& v : values) params.emplace_back(k, v);
  }
  t->id = assign::TargetId(config.job_name, t->address, t->metrics_path, params);
  return std::nullopt;
}

}  // namespace

std::vector<std::string> MonitorNamespaces(const Monitor& m, const ClusterView& view) {
  if (m.any_namespace) return view.Namespaces();
  if (m.match_namespaces.empty()) return {m.ns};
  std::set<std::string> unique(m.match_namespaces.begin(), m.match_namespaces.end());
  return {unique.begin(), unique.end()};
}

Result<DiscoveryResult> Discover(const Monitor& m, const ClusterView& view,
                                 const DiscoveryOptions& options) {
  auto with_context = [&](const Status& st) { return st.WithContext(m.Describe()); };
  const std::vector<std::string> namespaces = MonitorNamespaces(m, view);

  struct Job {
    std::shared_ptr<ScrapeConfig> config;
    relabel::Relabeler relabeler;
  };
  std::vector<Job> jobs;
  for (size_t i = 0; i < m.endpoints.size(); ++i) {
    auto config = BuildScrapeConfig(m, i, view, options);
    if (!config.ok()) return with_context(config.status());
    auto relabeler = relabel::Relabeler::Compile((*config)->relabel_configs);
    if (!relabeler.ok()) {
      return with_context(relabeler.status().WithContext(EndpointPath(m, i) + ".relabelings"));
    }
    Status port = CheckPortName(m, m.endpoints[i], EndpointPath(m, i), namespaces, view);
    if (!port.ok()) return with_context(port);
    jobs.push_back({*config, *relabeler});
  }

  // The selector rules only read Service (or Pod) labels: applying them per object first
  // skips building targets that the first rules of every job would drop anyway.
  auto selector = relabel::Relabeler::Compile(SelectorRelabelings(m));
  if (!selector.ok()) return with_context(selector.status().WithContext("spec.selector"));
  GroupFilter selected = [&selector](const Labels& group) {
    return selector->Process(group).has_value();
  };
  std::vector<Labels> discovered;
  for (const auto& ns : namespaces) {
    if (m.kind == Monitor::Kind::kServiceMonitor &&
        options.role == ServiceDiscoveryRole::kEndpoints) {
      for (const auto& [name, endpoints] : view.Endpoints(ns)) {
        auto targets = EndpointsTargets(*endpoints, view, selected);
        std::move(targets.begin(), targets.end(), std::back_inserter(discovered));
      }
    } else if (m.kind == Monitor::Kind::kServiceMonitor) {
      for (const auto& [name, slice] : view.EndpointSlices(ns)) {
        auto targets = EndpointSliceTargets(*slice, view, selected);
        std::move(targets.begin(), targets.end(), std::back_inserter(discovered));
      }
    } else {
      for (const auto& [name, pod] : view.Pods(ns)) {
        auto targets = PodTargets(*pod, selected);
        std::move(targets.begin(), targets.end(), std::back_inserter(discovered));
      }
    }
  }

  DiscoveryResult result;
  result.warnings = MetaLabelsOutsideRole(m, options.role);
  LabelsBuilder lb;
  for (const Job& job : jobs) {
    const ScrapeConfig& c = *job.config;
    const std::string interval = FormatMs(c.interval_ms);
    const std::string timeout = FormatMs(c.timeout_ms);
    std::set<std::pair<uint64_t, uint64_t>> seen;  // (id, labels hash)
    size_t kept = 0;
    for (const Labels& sd : discovered) {
      lb.Reset(sd);
      auto set_default = [&](std::string_view name, std::string_view value) {
        if (lb.Get(name).empty()) lb.Set(name, value);
      };
      set_default("job", c.job_name);
      set_default(kInterval, interval);
      set_default(kTimeout, timeout);
      set_default(kMetricsPath, c.metrics_path);
      set_default(kScheme, c.scheme);
      for (const auto& [k, values] : c.params) {
        if (!values.empty()) set_default(std::string(kParamPrefix) + k, values[0]);
      }
      if (!job.relabeler.Process(lb)) {
        ++result.dropped;
        continue;
      }
      Target t;
      if (auto error = Finish(lb, c, &t)) {
        if (result.target_errors.size() < options.max_target_errors) {
          result.target_errors.push_back(c.job_name + ": " + *error + " (discovered " +
                                         std::string(sd.Get(kAddress)) + ")");
        }
        continue;
      }
      if (!seen.insert({t.id, t.labels.Hash()}).second) continue;
      t.config = job.config;
      result.targets.push_back(std::move(t));
      ++kept;
    }
    if (c.limits.target_limit > 0 && kept > c.limits.target_limit) {
      return with_context(Status::ResourceExhausted(c.job_name + ": " + std::to_string(kept) +
                                                    " targets exceed targetLimit " +
                                                    std::to_string(c.limits.target_limit)));
    }
  }
  return result;
}

Result<DiscoveryResult> Discover(const json& monitor, const ClusterView& view,
                                 const DiscoveryOptions& options) {
  auto m = ParseMonitor(monitor);
  if (!m.ok()) return m.status();
  return Discover(*m, view, options);
}

}  // namespace shardwise::opdiscovery
