#include "operator/custommetrics/workload_provider.h"

#include <algorithm>
#include <set>

#include "common/log/log.h"
#include "common/metrics/registry.h"
#include "operator/promql/parser.h"

namespace shardwise::custommetrics {
namespace {

metrics::CounterFamily& Evaluations() {
  static auto& f = metrics::Registry::Default().AddCounterFamily(
      "shardwise_custom_metrics_evaluations_total",
      "metricsQuery evaluations for custom/external metrics requests, by result (ok, error, "
      "cached).",
      {"result"});
  return f;
}
metrics::Histogram& EvaluationSeconds() {
  static auto& h = metrics::Registry::Default().AddHistogram(
      "shardwise_custom_metrics_evaluation_seconds",
      "Time to evaluate one metricsQuery, the shards' remote reads included.",
      metrics::LatencyBuckets());
  return h;
}
metrics::CounterFamily& ConfigReloads() {
  static auto& f = metrics::Registry::Default().AddCounterFamily(
      "shardwise_custom_metrics_config_reloads_total",
      "Changes of the --custom-metrics.config rules seen while running, by result (ok: "
      "served from the next discovery round; error: the file does not load, the rules in use "
      "stay).",
      {"result"});
  return f;
}

metrics::GaugeFamily& Discovered() {
  static auto& f = metrics::Registry::Default().AddGaugeFamily(
      "shardwise_custom_metrics_discovered",
      "Metrics the adapter rules produce for series that exist (last discovery), by API.", {"api"});
  return f;
}

int64_t ToMs(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

int64_t MaxRangeMs(const promql::Expr& e) {
  int64_t m = e.kind == promql::ExprKind::kMatrixSelector ? e.range_ms : 0;
  for (const auto& a : e.args) m = std::max(m, MaxRangeMs(*a));
  if (e.param) m = std::max(m, MaxRangeMs(*e.param));
  if (e.lhs) m = std::max(m, MaxRangeMs(*e.lhs));
  if (e.rhs) m = std::max(m, MaxRangeMs(*e.rhs));
  return m;
}

// "deployments.apps" -> {apps, deployments}.
GroupResource ParseGroupResource(const std::string& s) {
  size_t dot = s.find('.');
  if (dot == std::string::npos) return {"", s};
  return {s.substr(dot + 1), s.substr(0, dot)};
}

struct KindInfo {
  const char* resource;
  const char* group;
  const char* kind;
  const char* api_version;
};
constexpr KindInfo kKinds[] = {
    {"pods", "", "Pod", "/v1"},
    {"services", "", "Service", "/v1"},
    {"namespaces", "", "Namespace", "/v1"},
    {"nodes", "", "Node", "/v1"},
    {"endpoints", "", "Endpoints", "/v1"},
    {"persistentvolumeclaims", "", "PersistentVolumeClaim", "/v1"},
    {"replicationcontrollers", "", "ReplicationController", "/v1"},
    {"deployments", "apps", "Deployment", "apps/v1"},
    {"statefulsets", "apps", "StatefulSet", "apps/v1"},
    {"replicasets", "apps", "ReplicaSet", "apps/v1"},
    {"daemonsets", "apps", "DaemonSet", "apps/v1"},
    {"jobs", "batch", "Job", "batch/v1"},
    {"cronjobs", "batch", "CronJob", "batch/v1"},
    {"ingresses", "networking.k8s.io", "Ingress", "networking.k8s.io/v1"},
};

// The describedObject's kind and apiVersion; for resources outside the table the singular,
// capitalized, and the group alone (the metrics APIs carry no version for them).
std::pair<std::string, std::string> KindOf(const GroupResource& gr) {
  for (const auto& k : kKinds) {
    if (gr.resource == k.resource && gr.group == k.group) return {k.kind, k.api_version};
  }
  std::string kind = gr.resource;
  if (kind.size() > 1 && kind.back() == 's') kind.pop_back();
  if (!kind.empty()) kind[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(kind[0])));
  return {kind, gr.group + "/"};
}

std::string JoinValues(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "|") + s;
  return out;
}

}  // namespace

std::vector<std::string> SelectorMatchers(const opdiscovery::LabelSelector& selector) {
  std::vector<std::string> out;
  for (const auto& [k, v] : selector.match_labels) out.push_back(k + "=" + GoQuote(v));
  for (const auto& r : selector.match_expressions) {
    if ((r.op == "In" || r.op == "NotIn") && r.values.size() == 1) {  // `k=v`, `k!=v`
      out.push_back(r.key + (r.op == "In" ? "=" : "!=") + GoQuote(r.values[0]));
    } else if (r.op == "In") {
      out.push_back(r.key + "=~" + GoQuote(JoinValues(r.values)));
    } else if (r.op == "NotIn") {
      out.push_back(r.key + "!~" + GoQuote(JoinValues(r.values)));
    } else if (r.op == "Exists") {
      out.push_back(r.key + "!=\"\"");
    } else if (r.op == "DoesNotExist") {
      out.push_back(r.key + "=\"\"");
    }
  }
  return out;
}

Status CheckMetricsQueries(const AdapterConfig& config) {
  for (int pass = 0; pass < 2; ++pass) {
    const auto& rules = pass == 0 ? config.rules : config.external_rules;
    const char* section = pass == 0 ? "rules" : "externalRules";
    for (size_t i = 0; i < rules.size(); ++i) {
      QueryArgs args;
      args.series = "series_name";
      args.label_matchers = {"namespace=\"default\"", "pod=~\"a|b\""};
      args.group_by = {"pod"};
      auto query = RenderMetricsQuery(rules[i], args);
      Status s = query.ok() ? promql::Parse(*query).status() : query.status();
      if (!s.ok()) {
        return Status::InvalidArgument(std::string(section) + "[" + std::to_string(i) +
                                       "] metricsQuery " + rules[i].metrics_query + ": " +
                                       s.message());
      }
    }
  }
  return Status::OK();
}

WorkloadMetricsProvider::WorkloadMetricsProvider(AdapterConfig config, const ShardFanout* fanout,
                                                 ObjectLister lister, Options options,
                                                 std::function<Clock::time_point()> now)
    : fanout_(fanout),
      lister_(std::move(lister)),
      options_(std::move(options)),
      now_(std::move(now)),
      config_(std::make_shared<const AdapterConfig>(std::move(config))) {}

WorkloadMetricsProvider::~WorkloadMetricsProvider() { Stop(); }

void WorkloadMetricsProvider::Start() {
  loop_ = std::thread([this] {
    std::unique_lock lock(loop_mu_);
    while (!stopping_) {
      lock.unlock();
      std::optional<Result<AdapterConfig>> rules;
      if (options_.reload_rules) rules = options_.reload_rules();
      Status s;
      if (!rules) {
        s = Relist();
      } else if (!rules->ok()) {
        ConfigReloads().With({"error"}).Inc();
        log::Error("custom metrics rules not reloaded; keeping the rules in use",
                   {{"err", rules->status()}});
        s = Relist();
      } else {
        ConfigReloads().With({"ok"}).Inc();
        log::Info("custom metrics rules reloaded",
                  {{"rules", (*rules)->rules.size()},
                   {"external_rules", (*rules)->external_rules.size()}});
        for (const auto& w : (*rules)->warnings) log::Warn(w);
        s = Reload(std::move(*rules).value());
      }
      if (!s.ok()) log::Warn("custom metrics discovery incomplete", {{"err", s}});
      lock.lock();
      loop_cv_.wait_for(lock, options_.relist_interval, [this] { return stopping_; });
    }
  });
}

void WorkloadMetricsProvider::Stop() {
  {
    std::lock_guard lock(loop_mu_);
    stopping_ = true;
  }
  loop_cv_.notify_all();
  if (loop_.joinable()) loop_.join();
}

Status WorkloadMetricsProvider::Reload(AdapterConfig config) {
  {
    std::lock_guard lock(mu_);
    config_ = std::make_shared<const AdapterConfig>(std::move(config));
  }
  return Relist();
}

Status WorkloadMetricsProvider::Relist() {
  const int64_t now = ToMs(now_());
  const int64_t window = std::max<int64_t>(options_.relist_interval.count(), 60000);
  Status first_error;
  std::map<std::pair<std::string, std::string>, Source> custom;
  std::vector<MetricInfo> infos;
  std::map<std::string, Source> external;
  std::lock_guard relisting(relist_mu_);
  std::shared_ptr<const AdapterConfig> config;
  std::map<std::pair<std::string, std::string>, Source> old_custom;
  std::vector<MetricInfo> old_infos;
  std::map<std::string, Source> old_external;
  {
    std::lock_guard lock(mu_);
    config = config_;
    old_custom = custom_;
    old_infos = infos_;
    old_external = external_;
  }
  // What a failing rule listed last round, if that was under the same rules.
  auto same_rule = [&](const Source& src, size_t rule) {
    return src.config == config && src.rule == rule;
  };
  auto keep_previous = [&](size_t rule, bool is_external) {
    if (is_external) {
      for (const auto& [m, src] : old_external) {
        if (same_rule(src, rule)) external.emplace(m, src);
      }
      return;
    }
    for (const auto& [key, src] : old_custom) {
      if (same_rule(src, rule)) custom.emplace(key, src);
    }
    for (const auto& info : old_infos) {
      auto it = old_custom.find({info.resource, info.metric});
      if (it != old_custom.end() && same_rule(it->second, rule)) infos.push_back(info);
    }
  };
  for (int pass = 0; pass < 2; ++pass) {
    const bool is_external = pass == 1;
    const auto& rules = is_external ? config->external_rules : config->rules;
    for (size_t i = 0; i < rules.size(); ++i) {
      const AdapterRule& rule = rules[i];
      Status partial;
      auto series =
          fanout_->Series(rule.series_query, rule.series_matchers, now - window, now, &partial);
      if (!series.ok()) partial = series.status();
      if (!partial.ok()) {
        // What the failing shards held last time stays listed.
        if (first_error.ok()) first_error = partial.WithContext("seriesQuery " + rule.series_query);
        keep_previous(i, is_external);
        if (!series.ok()) continue;
      }
      const std::string ns_label = rule.LabelForResource(kNamespaces);
      for (const Labels& s : *series) {
        std::string name(s.Get(kMetricName));
        if (name.empty() || !rule.KeepsSeries(name)) continue;
        auto metric = rule.MetricName(name);
        if (!metric || metric->empty()) continue;
        if (is_external) {
          external.emplace(*metric, Source{config, i, name});
          continue;
        }
        const bool namespaced = !ns_label.empty() && s.Has(ns_label);
        for (const Label& l : s) {
          auto gr = rule.ResourceForLabel(l.name);
          if (!gr) continue;
          MetricInfo info{gr->ToString(), *metric, *gr == kNamespaces ? false : namespaced};
          if (!custom.emplace(std::make_pair(info.resource, info.metric), Source{config, i, name})
                   .second) {
            continue;  // an earlier rule or series already serves it
          }
          infos.push_back(std::move(info));
        }
      }
    }
  }
  Discovered().With({"custom"}).Set(static_cast<double>(infos.size()));
  Discovered().With({"external"}).Set(static_cast<double>(external.size()));
  std::lock_guard lock(mu_);
  custom_ = std::move(custom);
  infos_ = std::move(infos);
  external_ = std::move(external);
  return first_error;
}

std::vector<MetricInfo> WorkloadMetricsProvider::ListMetrics() const {
  std::lock_guard lock(mu_);
  return infos_;
}

std::vector<std::string> WorkloadMetricsProvider::ListExternalMetrics() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [m, src] : external_) out.push_back(m);
  return out;
}

Result<WorkloadMetricsProvider::Evaluated> WorkloadMetricsProvider::Evaluate(
    const std::string& query) const {
  const auto now = now_();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(query);
    if (it != cache_.end() && now - it->second.at < options_.cache_ttl) {
      Evaluations().With({"cached"}).Inc();
      return it->second;
    }
  }
  const auto started = std::chrono::steady_clock::now();
  auto observe = [&](bool ok) {
    Evaluations().With({ok ? "ok" : "error"}).Inc();
    EvaluationSeconds().Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  };
  auto expr = promql::Parse(query);
  if (!expr.ok()) {
    observe(false);
    return expr.status().WithContext("metricsQuery " + query);
  }
  FanoutSource source(fanout_);
  auto value = promql::Evaluate(**expr, source, ToMs(now), options_.limits);
  observe(value.ok());
  if (!value.ok()) return value.status().WithContext("metricsQuery " + query);
  Evaluated out;
  out.at = now;
  out.window_seconds = MaxRangeMs(**expr) / 1000;
  if (value->type == promql::ValueType::kVector) {
    out.vector = std::move(value->vector);
  } else if (value->type == promql::ValueType::kScalar) {
    out.vector.push_back({Labels{}, value->scalar});
  } else {
    return Status::InvalidArgument("metricsQuery " + query +
                                   " does not give an instant vector or a scalar");
  }
  std::lock_guard lock(mu_);
  for (auto it = cache_.begin(); it != cache_.end();) {
    it = now - it->second.at >= options_.cache_ttl ? cache_.erase(it) : std::next(it);
  }
  cache_[query] = out;
  return out;
}

Result<std::vector<MetricValue>> WorkloadMetricsProvider::GetMetric(const MetricQuery& q) const {
  const GroupResource gr = ParseGroupResource(q.resource);
  Source src;
  {
    std::lock_guard lock(mu_);
    auto it = custom_.find({q.resource, q.metric});
    if (it == custom_.end()) {
      return Status::NotFound("the server could not find the metric " + q.metric + " for " +
                              q.resource);
    }
    src = it->second;
  }
  const AdapterRule& rule = src.config->rules[src.rule];
  const bool is_namespace = gr == kNamespaces;
  const std::string ns = is_namespace ? "" : q.ns;
  std::vector<std::string> names;
  if (q.name == "*") {
    auto listed = lister_(gr, ns, q.selector);
    if (!listed.ok()) return listed.status();
    names = std::move(listed).value();
    if (names.empty()) return std::vector<MetricValue>{};
    if (names.size() > options_.max_objects) {
      return Status::ResourceExhausted(std::to_string(names.size()) + " " + q.resource +
                                       " selected; at most " +
                                       std::to_string(options_.max_objects) + " per request");
    }
  } else {
    names.push_back(q.name);
  }
  auto args = CustomQueryArgs(rule, src.series, gr, ns, names, SelectorMatchers(q.metric_selector));
  if (!args.ok()) return args.status();
  auto query = RenderMetricsQuery(rule, *args);
  if (!query.ok()) return query.status();
  auto result = Evaluate(*query);
  if (!result.ok()) return result.status();

  const std::string& label = args->group_by.front();
  const std::set<std::string> wanted(names.begin(), names.end());
  const auto [kind, api_version] = KindOf(gr);
  std::vector<MetricValue> out;
  for (const auto& sample : result->vector) {
    std::string name(sample.labels.Get(label));
    if (!wanted.count(name)) continue;
    MetricValue v;
    v.object = {kind, api_version, ns, name};
    v.metric = q.metric;
    v.timestamp = result->at;
    v.window_seconds = result->window_seconds;
    v.milli_value = ToMilli(sample.v);
    out.push_back(std::move(v));
  }
  std::sort(out.begin(), out.end(), [](const MetricValue& a, const MetricValue& b) {
    return a.object.name < b.object.name;
  });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const MetricValue& a, const MetricValue& b) {
                          return a.object.name == b.object.name;
                        }),
            out.end());
  if (q.name != "*" && out.empty()) {
    return Status::NotFound("no value of " + q.metric + " for " + q.resource + " \"" + q.name +
                            "\": " + *query + " returned no sample for it");
  }
  return out;
}

Result<std::vector<ExternalMetricValue>> WorkloadMetricsProvider::GetExternalMetric(
    const std::string& ns, const std::string& metric,
    const opdiscovery::LabelSelector& selector) const {
  Source src;
  {
    std::lock_guard lock(mu_);
    auto it = external_.find(metric);
    if (it == external_.end()) {
      return Status::NotFound("the server could not find the external metric " + metric);
    }
    src = it->second;
  }
  const AdapterRule& rule = src.config->external_rules[src.rule];
  auto args = ExternalQueryArgs(rule, src.series, ns, SelectorMatchers(selector));
  if (!args.ok()) return args.status();
  auto query = RenderMetricsQuery(rule, *args);
  if (!query.ok()) return query.status();
  auto result = Evaluate(*query);
  if (!result.ok()) return result.status();
  std::vector<ExternalMetricValue> out;
  for (const auto& sample : result->vector) {
    ExternalMetricValue v;
    v.metric = metric;
    for (const Label& l : sample.labels) {
      if (l.name != kMetricName) v.labels[l.name] = l.value;
    }
    v.timestamp = result->at;
    v.window_seconds = result->window_seconds;
    v.milli_value = ToMilli(sample.v);
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace shardwise::custommetrics
