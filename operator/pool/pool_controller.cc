#include "operator/pool/pool_controller.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <tuple>
#include <unordered_map>

#include "common/log/log.h"
#include "common/metrics/registry.h"
#include "operator/assign/assigner.h"
#include "operator/assign/target_id.h"
#include "operator/autoscale/pool_load.h"
#include "operator/autoscale/recommender.h"
#include "operator/certs/serving_certs.h"
#include "operator/discovery/discover.h"
#include "operator/discovery/monitor.h"
#include "operator/endpoint/naming.h"
#include "operator/kube/resource.h"
#include "operator/kube/time_format.h"
#include "operator/pool/placement_rebuild.h"
#include "operator/pool/plan_builder.h"
#include "operator/pool/shard_liveness.h"

namespace shardwise::pool {

using nlohmann::json;
using Clock = std::chrono::system_clock;

namespace {

const kube::GroupVersionResource kConfigMaps{"", "v1", "configmaps"};

metrics::CounterFamily& Reconciles() {
  static auto& f = metrics::Registry::Default().AddCounterFamily(
      "shardwise_pool_reconciles_total", "Pool reconciles by result.", {"result"});
  return f;
}
metrics::GaugeFamily& PoolTargets() {
  static auto& f = metrics::Registry::Default().AddGaugeFamily(
      "shardwise_pool_targets", "Targets assigned in a pool.", {"namespace", "pool"});
  return f;
}
metrics::GaugeFamily& PoolShards() {
  static auto& f = metrics::Registry::Default().AddGaugeFamily(
      "shardwise_pool_shards", "Shards of a pool by phase.", {"namespace", "pool", "phase"});
  return f;
}
// One gauge family per pool figure that dashboards and alerts read (the pool's status
// carries the same figures for kubectl).
metrics::GaugeFamily& PoolFigure(const char* name, const char* help) {
  return metrics::Registry::Default().AddGaugeFamily(name, help, {"namespace", "pool"});
}
metrics::GaugeFamily& PoolSeries() {
  static auto& f = PoolFigure("shardwise_pool_series", "Active series of a pool's live shards.");
  return f;
}
metrics::GaugeFamily& PoolSamplesPerSecond() {
  static auto& f = PoolFigure("shardwise_pool_samples_per_second",
                              "Samples per second scraped by a pool's live shards.");
  return f;
}
metrics::GaugeFamily& PoolDesiredShards() {
  static auto& f = PoolFigure("shardwise_pool_desired_shards", "A pool's .spec.shards.");
  return f;
}
metrics::GaugeFamily& PoolMaxShards() {
  static auto& f = PoolFigure("shardwise_pool_max_shards",
                              "The autoscaler's maxShards (0 when autoscaling is off).");
  return f;
}
metrics::GaugeFamily& PoolTargetSeriesPerShard() {
  static auto& f = PoolFigure("shardwise_pool_target_series_per_shard",
                              "The autoscaler's targetSeriesPerShard (0 when unset).");
  return f;
}
metrics::GaugeFamily& PoolHandoffs() {
  static auto& f = PoolFigure("shardwise_pool_handoffs",
                              "Targets being handed over make-before-break right now.");
  return f;
}
metrics::CounterFamily& AutoscalerScalings() {
  static auto& f = metrics::Registry::Default().AddCounterFamily(
      "shardwise_pool_autoscaler_scalings_total",
      "Changes of .spec.shards written by the operator's autoscaler, by direction (up, down).",
      {"namespace", "pool", "direction"});
  return f;
}
metrics::CounterFamily& Moves() {
  static auto& f = metrics::Registry::Default().AddCounterFamily(
      "shardwise_assignment_moved_targets_total", "Targets moved to another shard by reassignment.",
      {"namespace", "pool"});
  return f;
}

metrics::CounterFamily& MovesWithoutHandoff() {
  static auto& f = metrics::Registry::Default().AddCounterFamily(
      "shardwise_assignment_moved_without_handoff_total",
      "Targets moved off a lost shard without a handoff (the new owner forwards from its first "
      "scrape).",
      {"namespace", "pool"});
  return f;
}

std::map<std::string, std::string> LabelsOf(const json& obj) {
  std::map<std::string, std::string> out;
  const json& labels = obj.value("metadata", json::object()).value("labels", json::object());
  for (const auto& [k, v] : labels.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

std::string Rfc3339(Clock::time_point t) {
  std::time_t tt = Clock::to_time_t(t);
  std::tm tm;
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json Condition(const std::string& type, bool status, const std::string& reason,
               const std::string& message, const json& previous) {
  std::string st = status ? "True" : "False";
  std::string since = Rfc3339(Clock::now());
  // Keep lastTransitionTime while the status is unchanged, as Kubernetes conventions ask.
  if (previous.is_array()) {
    for (const auto& c : previous) {
      if (c.value("type", "") == type && c.value("status", "") == st) {
        since = c.value("lastTransitionTime", since);
      }
    }
  }
  return {{"type", type},
          {"status", st},
          {"reason", reason},
          {"message", message},
          {"lastTransitionTime", since}};
}

// Every KeyRef a monitor's endpoints reference, to read on demand.
std::vector<std::pair<std::string, std::string>> SecretRefs(const opdiscovery::Monitor& m) {
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&](const std::optional<opdiscovery::KeyRef>& r) {
    if (r) out.emplace_back(m.ns, r->name);
  };
  for (const auto& ep : m.endpoints) {
    add(ep.bearer_token_secret);
    if (ep.authorization) add(ep.authorization->credentials);
    if (ep.basic_auth) {
      out.emplace_back(m.ns, ep.basic_auth->username.name);
      out.emplace_back(m.ns, ep.basic_auth->password.name);
    }
    if (ep.tls_config) {
      add(ep.tls_config->ca.secret);
      add(ep.tls_config->cert.secret);
      add(ep.tls_config->key_secret);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ConfigMapRefs(const opdiscovery::Monitor& m) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& ep : m.endpoints) {
    if (!ep.tls_config) continue;
    if (ep.tls_config->ca.config_map) out.emplace_back(m.ns, ep.tls_config->ca.config_map->name);
    if (ep.tls_config->cert.config_map)
      out.emplace_back(m.ns, ep.tls_config->cert.config_map->name);
  }
  return out;
}

}  // namespace

PoolController::PoolController(kube::Client& client, Caches caches, endpoint::PlanStore& plans,
                               endpoint::ReportStore& reports, kube::EventRecorder& events,
                               Options options)
    : client_(client),
      caches_(caches),
      plans_(plans),
      reports_(reports),
      events_(events),
      options_(std::move(options)) {
  reports_.SetAdmission([this](const endpoint::ShardKey& k) { return Admits(k); });
}

PoolController::~PoolController() {
  Stop();
  reports_.SetAdmission(nullptr);
}

void PoolController::Enqueue(const std::string& pool_key) { queue_.Add(pool_key); }

void PoolController::EnqueueAll() {
  for (const auto& key : caches_.pools->Keys()) queue_.Add(key);
}

void PoolController::Start() {
  worker_ = std::thread([this] { Work(); });
}

void PoolController::Stop() {
  queue_.ShutDown();
  if (worker_.joinable()) worker_.join();
}

void PoolController::Work() {
  while (auto key = queue_.Get()) {
    Status s = Reconcile(*key);
    if (s.ok()) {
      Reconciles().With({"success"}).Inc();
      queue_.Forget(*key);
      queue_.AddAfter(*key, options_.resync);
    } else {
      Reconciles().With({"error"}).Inc();
      log::Warn("reconcile failed; retrying with backoff", {{"pool", *key}, {"err", s}});
      queue_.AddRateLimited(*key);
    }
    queue_.Done(*key);
  }
}

void PoolController::Admit(const std::string& ns, const std::string& pool, int shards,
                           int replicas) {
  std::lock_guard lock(admission_mu_);
  if (shards <= 0) {
    admitted_.erase({ns, pool});
  } else {
    admitted_[{ns, pool}] = {shards, replicas};
  }
}

bool PoolController::Admits(const endpoint::ShardKey& k) const {
  std::lock_guard lock(admission_mu_);
  auto it = admitted_.find({k.ns, k.pool});
  return it != admitted_.end() && k.shard >= 0 && k.shard < it->second.first && k.replica >= 0 &&
         k.replica < it->second.second;
}

void PoolController::Forget(const std::string& pool_key) {
  std::string ns, name;
  kube::SplitKey(pool_key, &ns, &name);
  Admit(ns, name, 0, 0);
  for (const auto& k : plans_.Keys()) {
    if (k.ns == ns && k.pool == name) plans_.Remove(k);
  }
  reports_.RetainOnly(ns, name, [](const endpoint::ShardKey&) { return false; });
  if (options_.snapshots != nullptr) options_.snapshots->Remove(ns, name);
  std::lock_guard lock(mu_);
  state_.erase(pool_key);
}

Status PoolController::Reconcile(const std::string& pool_key) {
  // The shared_ptr keeps this version of the pool alive for the whole reconcile, whatever
  // the informer does meanwhile.
  kube::ObjectPtr pool_obj = caches_.pools->Get(pool_key);
  if (!pool_obj) {  // deleted: owned objects go with it through garbage collection
    Forget(pool_key);
    return Status::OK();
  }
  const json& pool_json = *pool_obj;
  json pool_for_events = pool_json;
  pool_for_events["apiVersion"] = "shardwise.io/v1alpha1";
  pool_for_events["kind"] = "ScrapePool";
  auto pool_ref = kube::ObjectReference::From(pool_for_events);
  const json pool_status = pool_json.value("status", json::object());
  json prev_conditions = pool_status.value("conditions", json::array());

  std::unique_lock lock(mu_);
  PoolState& state = state_[pool_key];
  // What this process last wrote wins over the cache, which may lag behind our own write;
  // otherwise every condition would get a new transition time and the status would churn.
  if (state.last_status.contains("conditions")) prev_conditions = state.last_status["conditions"];

  auto spec_or = ParsePoolSpec(pool_json);
  if (!spec_or.ok()) {
    json status = {
        {"observedGeneration", pool_json["metadata"].value("generation", 0)},
        {"conditions", json::array({Condition("Degraded", true, "InvalidSpec",
                                              spec_or.status().message(), prev_conditions)})}};
    if (status != state.last_status) {
      events_.Record(pool_ref, "Warning", "InvalidSpec", spec_or.status().message());
      auto r =
          client_.Patch(kube::resources::kScrapePools, pool_json["metadata"].value("namespace", ""),
                        pool_json["metadata"].value("name", ""), kube::PatchType::kMerge,
                        {{"status", status}}, {}, "status");
      if (!r.ok()) return r.status();
      state.last_status = status;
    }
    return Status::OK();
  }
  const PoolSpec& spec = *spec_or;
  const auto now = Clock::now();
  if (state.first_reconcile == Clock::time_point{}) state.first_reconcile = now;

  // The shards that exist: wanted ones, draining ones, and (after a restart) what the last
  // status said ran. Only after a restart: otherwise the assignment knows, and the cached
  // status may lag behind our own write and name a shard already drained and removed,
  // which would come back and be removed a second time, as undrained.
  const int status_shards = [&] {
    if (state.assignment) return 0;
    const json& v = pool_status.contains("scraperShards") ? pool_status["scraperShards"]
                                                          : pool_status.value("shards", json());
    return v.is_number_integer() ? std::max<int>(0, v.get<int>()) : 0;
  }();
  const int known_shards =
      std::max({spec.shards, status_shards,
                state.assignment ? static_cast<int>(state.assignment->shards.size()) : 0});
  Admit(spec.ns, spec.name, known_shards, spec.replicas_per_shard);

  // 1. Which namespaces and monitors this pool selects.
  std::set<std::string> monitor_namespaces;
  if (spec.monitor_namespace_selector.is_null()) {
    monitor_namespaces.insert(spec.ns);
  } else {
    auto sel = opdiscovery::ParseLabelSelector(spec.monitor_namespace_selector,
                                               "spec.monitorNamespaceSelector");
    if (!sel.ok()) return sel.status();
    for (const auto& ns : caches_.namespaces->List()) {
      if (sel->Matches(LabelsOf(*ns))) monitor_namespaces.insert(kube::NameOf(*ns));
    }
  }
  std::vector<std::pair<opdiscovery::Monitor, json>> monitors;
  std::set<std::string> invalid;
  std::vector<MonitorSnapshot> monitor_views;  // every selected monitor, valid or not
  auto select = [&](const kube::Store* store, const json& selector_json, const char* kind,
                    const char* path) -> Status {
    if (store == nullptr || selector_json.is_null()) return Status::OK();
    auto sel = opdiscovery::ParseLabelSelector(selector_json, path);
    if (!sel.ok()) return sel.status();
    for (const auto& obj : store->List()) {
      if (!monitor_namespaces.count(kube::NamespaceOf(*obj))) continue;
      if (!sel->Matches(LabelsOf(*obj))) continue;
      json m = *obj;
      m["kind"] = kind;
      m["apiVersion"] = "monitoring.coreos.com/v1";
      auto parsed = opdiscovery::ParseMonitor(m);
      if (!parsed.ok()) {
        std::string msg =
            std::string(kind) + " " + kube::KeyOf(*obj) + ": " + parsed.status().message();
        invalid.insert(msg);
        if (!state.invalid_monitors.count(msg)) {
          events_.Record(kube::ObjectReference::From(m), "Warning", "InvalidMonitor",
                         parsed.status().message());
        }
        monitor_views.push_back({kind, kube::NamespaceOf(*obj), kube::NameOf(*obj), false,
                                 parsed.status().message(), 0});
        continue;
      }
      monitors.emplace_back(std::move(parsed).value(), std::move(m));
    }
    return Status::OK();
  };
  SHARDWISE_RETURN_IF_ERROR(select(caches_.service_monitors, spec.service_monitor_selector,
                                   "ServiceMonitor", "spec.serviceMonitorSelector"));
  SHARDWISE_RETURN_IF_ERROR(select(caches_.pod_monitors, spec.pod_monitor_selector, "PodMonitor",
                                   "spec.podMonitorSelector"));

  // 2. The cluster objects discovery reads. The view holds plain pointers into them, so every
  // object it sees is owned here (keep_alive, fetched) until the plans are built — the
  // informer may replace its copies at any moment.
  opdiscovery::ClusterView view;
  std::vector<kube::ObjectPtr> keep_alive;
  for (auto& o : caches_.namespaces->List()) {
    view.AddNamespace(*o);
    keep_alive.push_back(std::move(o));
  }
  std::set<std::string> scope;
  for (const auto& [m, _] : monitors) {
    for (const auto& ns : opdiscovery::MonitorNamespaces(m, view)) scope.insert(ns);
  }
  auto add_scoped = [&](const kube::Store* store,
                        void (opdiscovery::ClusterView::*add)(const json&)) {
    if (store == nullptr) return;
    for (auto& o : store->List()) {
      if (!scope.count(kube::NamespaceOf(*o))) continue;
      (view.*add)(*o);
      keep_alive.push_back(std::move(o));
    }
  };
  add_scoped(caches_.services, &opdiscovery::ClusterView::AddService);
  if (spec.service_discovery_role == opdiscovery::ServiceDiscoveryRole::kEndpoints) {
    add_scoped(caches_.endpoints, &opdiscovery::ClusterView::AddEndpoints);
  } else {
    add_scoped(caches_.endpoint_slices, &opdiscovery::ClusterView::AddEndpointSlice);
  }
  add_scoped(caches_.pods, &opdiscovery::ClusterView::AddPod);
  std::set<std::pair<std::string, std::string>> secret_refs, cm_refs;
  for (const auto& [m, _] : monitors) {
    for (auto& r : SecretRefs(m)) secret_refs.insert(r);
    for (auto& r : ConfigMapRefs(m)) cm_refs.insert(r);
  }
  std::deque<json> fetched;  // on-demand reads (no informer): stable addresses
  auto read_refs = [&](const std::set<std::pair<std::string, std::string>>& refs,
                       const kube::Store* store, const kube::GroupVersionResource& gvr,
                       void (opdiscovery::ClusterView::*add)(const json&)) -> Status {
    for (const auto& [ns, name] : refs) {
      if (store != nullptr) {
        if (kube::ObjectPtr o = store->Get(ns + "/" + name)) {
          (view.*add)(*o);
          keep_alive.push_back(std::move(o));
        }
        continue;
      }
      auto r = client_.Get(gvr, ns, name);
      if (r.ok()) {
        fetched.push_back(std::move(*r));
        (view.*add)(fetched.back());
      } else if (!r.error().IsNotFound()) {
        return r.status();
      }
    }
    return Status::OK();
  };
  SHARDWISE_RETURN_IF_ERROR(read_refs(secret_refs, caches_.secrets, kube::resources::kSecrets,
                                      &opdiscovery::ClusterView::AddSecret));
  SHARDWISE_RETURN_IF_ERROR(read_refs(cm_refs, caches_.config_maps, kConfigMaps,
                                      &opdiscovery::ClusterView::AddConfigMap));

  // 3. Targets.
  opdiscovery::DiscoveryOptions dopts;
  dopts.default_interval_ms = spec.default_interval.count();
  dopts.default_timeout_ms = spec.default_timeout.count();
  dopts.role = spec.service_discovery_role;
  std::set<std::string> meta_warnings;
  std::vector<opdiscovery::Target> targets;
  std::set<uint64_t> seen_ids;
  for (const auto& [m, obj] : monitors) {
    auto r = opdiscovery::Discover(m, view, dopts);
    monitor_views.push_back(
        {m.kind == opdiscovery::Monitor::Kind::kServiceMonitor ? "ServiceMonitor" : "PodMonitor",
         m.ns, m.name, r.ok(), r.ok() ? "" : r.status().message(),
         r.ok() ? static_cast<uint64_t>(r->targets.size()) : 0});
    if (!r.ok()) {
      std::string msg = m.Describe() + ": " + r.status().message();
      invalid.insert(msg);
      if (!state.invalid_monitors.count(msg)) {
        events_.Record(kube::ObjectReference::From(obj), "Warning", "InvalidMonitor",
                       r.status().message());
      }
      continue;
    }
    // Relabelings that read labels the role never has: valid, but they would silently
    // select nothing. Reported once per new message, as a condition and an Event.
    for (const auto& w : r->warnings) {
      std::string msg = m.Describe() + ": " + w;
      if (!state.meta_label_warnings.count(msg)) {
        events_.Record(pool_ref, "Warning", "MetaLabelNotInRole", msg);
      }
      meta_warnings.insert(std::move(msg));
    }
    for (auto& t : r->targets) {
      if (seen_ids.insert(t.id).second) targets.push_back(std::move(t));
    }
  }
  state.invalid_monitors = invalid;
  state.meta_label_warnings = meta_warnings;

  // 4. Liveness of every scraper pod, from its pod and its reports.
  const int replicas = spec.replicas_per_shard;
  std::map<endpoint::ShardKey, endpoint::ReportStore::Entry> pool_reports;
  for (auto& [key, entry] : reports_.All()) {
    if (key.ns == spec.ns && key.pool == spec.name) pool_reports.emplace(key, std::move(entry));
  }
  struct ShardView {
    bool alive = false;
    bool reporting = false;
    std::vector<Liveness> replicas;
    ShardLiveness judged;  // for the assignment and the status alike
    const endpoint::ReportStore::Entry* freshest = nullptr;  // newest report of a live replica
  };
  std::vector<ShardView> shard_views(static_cast<size_t>(known_shards));
  if (!state.ready_pods_read) {
    // Which pods were Ready, as the last process wrote it into the shards' status: without
    // it a restarted operator would take a pod that failed for one still starting.
    kube::ListOptions lo;
    lo.label_selector = PodSelector(spec);
    auto shards = client_.List(kube::resources::kScrapeShards, spec.ns, lo);
    if (!shards.ok()) return shards.status().WithContext("reading the ScrapeShards' readyPods");
    for (const auto& obj : shards->items) ReadReadyPods(obj, &state.pods_ready);
    state.ready_pods_read = true;
  }
  for (int s = 0; s < known_shards; ++s) {
    state.expected_since.emplace(s, now);
    ShardView& sv = shard_views[static_cast<size_t>(s)];
    for (int r = 0; r < replicas; ++r) {
      const std::string pod_name = endpoint::PodName(spec.name, s, r);
      ReplicaSignals signals;
      signals.expected_since = state.expected_since[s];
      signals.pod_seen_before = state.pods_seen.count(pod_name) > 0;
      if (caches_.pods != nullptr) {
        if (kube::ObjectPtr pod = caches_.pods->Get(spec.ns + "/" + pod_name)) {
          signals.pod = *pod;  // a copy: nothing here points into the informer
          state.pods_seen.insert(pod_name);
          // Remembered by uid: a pod recreated under the same name starts afresh.
          const std::string uid = PodUid(*signals.pod);
          if (PodIsReady(*signals.pod)) state.pods_ready[pod_name] = uid;
          auto seen = state.pods_ready.find(pod_name);
          signals.pod_was_ready = seen != state.pods_ready.end() && seen->second == uid;
        }
      }
      auto rep = pool_reports.find({spec.ns, spec.name, s, r});
      if (rep != pool_reports.end()) {
        signals.last_report = rep->second.received;
        signals.reported_generation = rep->second.report.plan_generation;
      }
      for (const auto& [gen, at] : state.sent_generations[{s, r}]) {
        if (now - at < options_.heartbeat_timeout) break;
        signals.recent_generation = gen;  // current heartbeat_timeout ago
      }
      Liveness l = JudgeReplica(signals, now, options_.heartbeat_timeout);
      if (l.alive && l.reporting &&
          (sv.freshest == nullptr || rep->second.received > sv.freshest->received)) {
        sv.freshest = &rep->second;
      }
      sv.replicas.push_back(std::move(l));
    }
    std::vector<std::string> pod_names;
    for (int r = 0; r < replicas; ++r) pod_names.push_back(endpoint::PodName(spec.name, s, r));
    sv.judged = JudgeShard(sv.replicas, pod_names);
    sv.alive = sv.judged.alive;
    sv.reporting = sv.judged.reporting;
  }

  // After a restart: wait (bounded) until every existing scraper reported, then rebuild the
  // placement they run. A new pool has nothing to wait for.
  std::optional<assign::Assignment> rebuilt;
  if (!state.assignment) {
    bool all_heard = true;
    for (int s = 0; s < status_shards && s < known_shards; ++s) {
      for (int r = 0; r < replicas; ++r) {
        const Liveness& l = shard_views[static_cast<size_t>(s)].replicas[static_cast<size_t>(r)];
        if (l.alive && !pool_reports.count({spec.ns, spec.name, s, r})) all_heard = false;
      }
    }
    if (status_shards > 0 && !all_heard && now - state.first_reconcile < options_.rebuild_wait) {
      log::Info("waiting for the scrapers' reports before assigning",
                {{"pool", pool_key}, {"shards", status_shards}});
      return Status::OK();
    }
  }

  // 5. Shard states: live wanted shards take targets; live ones beyond spec.shards drain;
  // shards with no live replica are lost (their targets move without a handoff).
  std::vector<assign::ShardState> shards(static_cast<size_t>(known_shards));
  for (int s = 0; s < known_shards; ++s) {
    const bool alive = shard_views[static_cast<size_t>(s)].alive;
    shards[static_cast<size_t>(s)] =
        !alive ? assign::ShardState::kLost
               : (s < spec.shards ? assign::ShardState::kActive : assign::ShardState::kDraining);
  }
  bool any_active = std::any_of(shards.begin(), shards.end(),
                                [](auto s) { return s == assign::ShardState::kActive; });
  if (!any_active) {  // every shard down: keep the last plans rather than assign to nobody
    for (int s = 0; s < std::min(spec.shards, known_shards); ++s) {
      shards[static_cast<size_t>(s)] = assign::ShardState::kActive;
    }
  }

  // Weights and handoff confirmations come from live replicas' reports only.
  std::unordered_map<uint64_t, double> measured;
  std::vector<assign::ScrapeConfirmation> confirmations;
  std::vector<ShardReport> live_reports;
  for (const auto& [key, entry] : pool_reports) {
    if (key.shard >= known_shards || key.replica >= replicas) continue;
    if (!shard_views[static_cast<size_t>(key.shard)]
             .replicas[static_cast<size_t>(key.replica)]
             .alive) {
      continue;
    }
    live_reports.push_back({static_cast<uint32_t>(key.shard), &entry.report});
    for (const auto& t : entry.report.per_target) {
      if (t.series > 0) measured[t.id] = std::max(measured[t.id], t.series);
      if (t.last_success_unix_ms > 0) {
        confirmations.push_back(
            {t.id, static_cast<uint32_t>(key.shard),
             Clock::time_point(std::chrono::milliseconds(t.last_success_unix_ms))});
      }
    }
  }
  if (!state.assignment && !live_reports.empty()) {
    std::vector<uint64_t> ids;
    ids.reserve(targets.size());
    for (const auto& t : targets) ids.push_back(t.id);
    rebuilt = RebuildAssignment(live_reports, shards, ids, now);
    log::Info("placement rebuilt from scraper reports", {{"pool", pool_key},
                                                         {"targets", rebuilt->targets.size()},
                                                         {"handoffs", rebuilt->handoffs.size()}});
  }
  std::vector<assign::TargetInput> inputs;
  inputs.reserve(targets.size());
  for (const auto& t : targets) {
    auto it = measured.find(t.id);
    inputs.push_back(
        {t.id, assign::JobKey(t.config->job_name), it == measured.end() ? -1.0 : it->second});
  }
  assign::AssignInput ain;
  ain.targets = inputs;
  ain.shards = shards;
  ain.previous = state.assignment ? &*state.assignment : (rebuilt ? &*rebuilt : nullptr);
  ain.confirmations = confirmations;
  ain.now = now;
  ain.options.epsilon = spec.load_factor - 1.0;
  ain.options.handoff_timeout = spec.handoff_timeout;
  ain.options.cutover_delay = options_.cutover_delay;
  auto assigned = assign::Assign(ain);
  if (!assigned.ok()) return assigned.status();
  assign::Assignment assignment = std::move(assigned).value();
  Moves().With({spec.ns, spec.name}).Inc(static_cast<double>(assignment.stats.moved_targets));
  MovesWithoutHandoff()
      .With({spec.ns, spec.name})
      .Inc(static_cast<double>(assignment.stats.moved_without_handoff));

  // 6. Plans. Every shard gets one — a draining shard left with nothing gets an empty plan,
  // which its scrapers apply (stopping without staleness markers) and report.
  std::vector<std::string> plan_errors;
  // Targets that moved away are listed in their old shard's plans for a while, so its
  // scrapers stop them silently even if they skipped the generation marking them outgoing.
  state.released.set_keep(spec.handoff_timeout);
  state.released.Update(ain.previous, assignment, now);
  // Every scraper still reporting counts, a shard judged lost included (a NotReady pod
  // whose scraper runs).
  for (const auto& [key, entry] : pool_reports) {
    if (key.shard >= known_shards || key.replica >= replicas) continue;
    const auto& sv = shard_views[static_cast<size_t>(key.shard)];
    if (!sv.replicas[static_cast<size_t>(key.replica)].reporting) continue;
    std::vector<uint64_t> running;
    running.reserve(entry.report.per_target.size());
    for (const auto& t : entry.report.per_target) running.push_back(t.id);
    state.released.NoteRunning(static_cast<uint32_t>(key.shard), running, assignment, now);
  }
  auto plans = BuildPlans(spec, targets, assignment, view, &plan_errors, &state.released);
  for (int s = 0; s < known_shards; ++s) {
    const bool drained = s >= spec.shards && assignment.owned[static_cast<size_t>(s)] == 0 &&
                         assignment.handing_off[static_cast<size_t>(s)] == 0;
    for (int r = 0; r < replicas; ++r) {
      uint64_t gen = plans_.Publish({spec.ns, spec.name, s, r},
                                    plans[static_cast<size_t>(s)][static_cast<size_t>(r)]);
      auto& sent = state.sent_generations[{s, r}];
      if (sent.empty() || sent.back().first != gen) sent.emplace_back(gen, now);
      while (sent.size() > 1 && now - sent[1].second >= options_.heartbeat_timeout) {
        sent.pop_front();
      }
      if (drained) {
        auto [fp, fresh] = state.final_plan.try_emplace({s, r});
        fp->second.generation = gen;  // the newest: a changed empty plan must be confirmed
        if (fresh) fp->second.since = now;
      } else {
        state.final_plan.erase({s, r});
      }
    }
  }
  // A drained shard goes once each replica confirms its final empty plan: a report of that
  // generation (or a newer one) with no targets, sent by the running scraper after its loops
  // stopped. A replica that is not running, or silent about it for heartbeat_timeout, does not hold
  // the scale-down up; the Event then says why. Removal happens from the top, as the
  // StatefulSet removes the highest ordinals. The Events are recorded before the StatefulSet
  // shrinks, so they precede the pods' removal.
  int shard_count = known_shards;
  std::vector<std::tuple<const char*, const char*, std::string>> removals;  // type, reason, msg
  while (shard_count > spec.shards) {
    const int s = shard_count - 1;
    std::string confirmed, unconfirmed;
    bool done = true;
    for (int r = 0; r < replicas && done; ++r) {
      auto fp = state.final_plan.find({s, r});
      if (fp == state.final_plan.end()) {
        done = false;
        break;
      }
      const std::string pod = endpoint::PodName(spec.name, s, r);
      const std::string gen = std::to_string(fp->second.generation);
      const Liveness& l = shard_views[static_cast<size_t>(s)].replicas[static_cast<size_t>(r)];
      auto rep = pool_reports.find({spec.ns, spec.name, s, r});
      const plan::LoadReport* report = rep == pool_reports.end() ? nullptr : &rep->second.report;
      auto add = [](std::string& list, const std::string& item) {
        list += (list.empty() ? "" : "; ") + item;
      };
      if (report != nullptr && report->plan_generation >= fp->second.generation &&
          report->per_target.empty()) {
        add(confirmed, pod + " runs plan generation " + std::to_string(report->plan_generation) +
                           " with no targets (reported at " +
                           kube::FormatMicroTime(rep->second.received) + ")");
      } else if (!l.alive && l.reason != "PodNotReady") {
        // Not running (gone, terminated, never scheduled) or silent: it scrapes nothing.
        // NotReady is no such proof (the process may still scrape): that one waits.
        add(unconfirmed, pod + " is down (" + l.reason +
                             (l.message.empty() ? std::string() : ": " + l.message) + ")");
      } else if (now - fp->second.since >= options_.heartbeat_timeout) {
        add(unconfirmed,
            pod + " did not confirm plan generation " + gen + " within " +
                std::to_string(
                    std::chrono::duration_cast<std::chrono::seconds>(options_.heartbeat_timeout)
                        .count()) +
                "s" +
                (report == nullptr
                     ? std::string(" (no report)")
                     : " (its report: generation " + std::to_string(report->plan_generation) +
                           " with " + std::to_string(report->per_target.size()) + " targets" +
                           // Not the error's text: an Event carries no secret.
                           (report->failed_plan_generation >= fp->second.generation
                                ? ", failing to apply generation " +
                                      std::to_string(report->failed_plan_generation)
                                : std::string()) +
                           ")"));
      } else {
        done = false;
      }
    }
    if (!done) break;
    const std::string shard = "shard " + std::to_string(s);
    if (unconfirmed.empty()) {
      removals.emplace_back("Normal", "ShardDrained",
                            shard + " drained: " + confirmed + "; removing it");
    } else {
      removals.emplace_back("Warning", "ShardRemovedUndrained",
                            shard +
                                " removed without confirming its final empty plan: " + unconfirmed +
                                (confirmed.empty() ? std::string() : "; " + confirmed));
    }
    --shard_count;
  }
  for (const auto& [type, reason, message] : removals) {
    events_.Record(pool_ref, type, reason, message);
    if (std::string_view(type) == "Warning") {
      log::Warn("removing a shard that did not confirm its drain",
                {{"pool", pool_key}, {"detail", message}});
    } else {
      log::Info("removing a drained shard", {{"pool", pool_key}, {"detail", message}});
    }
  }
  for (const auto& k : plans_.Keys()) {
    if (k.ns == spec.ns && k.pool == spec.name &&
        (k.shard >= shard_count || k.replica >= replicas)) {
      plans_.Remove(k);
    }
  }
  if (shard_count < known_shards) {
    reports_.RetainOnly(spec.ns, spec.name, [&](const endpoint::ShardKey& k) {
      return k.shard < shard_count && k.replica < replicas;
    });
    for (int s = shard_count; s < known_shards; ++s) {
      state.expected_since.erase(s);
      state.shard_status.erase(s);
      state.heartbeat_written.erase(s);
      for (int r = 0; r < replicas; ++r) {
        state.final_plan.erase({s, r});
        state.pods_seen.erase(endpoint::PodName(spec.name, s, r));
        state.pods_ready.erase(endpoint::PodName(spec.name, s, r));
        state.sent_generations.erase({s, r});
      }
    }
    assignment.shards.resize(static_cast<size_t>(shard_count));
    assignment.load.resize(static_cast<size_t>(shard_count));
    assignment.owned.resize(static_cast<size_t>(shard_count));
    assignment.handing_off.resize(static_cast<size_t>(shard_count));
    shard_views.resize(static_cast<size_t>(shard_count));
    Admit(spec.ns, spec.name, shard_count, replicas);
  } else {
    reports_.RetainOnly(spec.ns, spec.name,
                        [&](const endpoint::ShardKey& k) { return k.replica < replicas; });
  }
  state.assignment = assignment;
  const bool list_shards = state.last_shard_count < 0 || shard_count < state.last_shard_count;
  lock.unlock();

  // 7. Owned objects, by server-side apply — only what differs from the last apply.
  auto apply = [&](const kube::GroupVersionResource& gvr, const json& obj) -> Status {
    const std::string key = gvr.ToString() + "/" + kube::NameOf(obj);
    const auto steady = std::chrono::steady_clock::now();
    {
      std::lock_guard relock(mu_);
      auto& applied = state_[pool_key].applied;
      auto it = applied.find(key);
      if (it != applied.end() && it->second.first == obj &&
          steady - it->second.second < options_.reapply) {
        return Status::OK();
      }
    }
    auto r = client_.Apply(gvr, spec.ns, obj, kFieldManager, /*force=*/true);
    if (!r.ok()) return r.status().WithContext("apply " + gvr.ToString() + " " + kube::NameOf(obj));
    std::lock_guard relock(mu_);
    state_[pool_key].applied[key] = {obj, steady};
    return Status::OK();
  };
  SHARDWISE_RETURN_IF_ERROR(apply(kube::resources::kServiceAccounts, BuildServiceAccount(spec)));
  SHARDWISE_RETURN_IF_ERROR(apply(kConfigMaps, BuildConfigMap(spec)));
  if (options_.ca_bundle) {
    if (std::string ca = options_.ca_bundle(); !ca.empty()) {
      SHARDWISE_RETURN_IF_ERROR(apply(kConfigMaps, certs::BuildCaConfigMap(spec.ns, ca)));
    }
  }
  SHARDWISE_RETURN_IF_ERROR(apply(kube::resources::kServices, BuildService(spec)));
  SHARDWISE_RETURN_IF_ERROR(
      apply(kube::resources::kPodDisruptionBudgets, BuildPodDisruptionBudget(spec)));
  for (int r = 0; r < replicas; ++r) {
    SHARDWISE_RETURN_IF_ERROR(apply(kube::resources::kStatefulSets,
                                    BuildStatefulSet(spec, r, shard_count, options_.settings)));
  }
  for (int s = 0; s < shard_count; ++s) {
    SHARDWISE_RETURN_IF_ERROR(apply(kube::resources::kScrapeShards, BuildScrapeShard(spec, s)));
  }
  // Surplus ScrapeShards (after a scale-down completed, or left by an earlier leader).
  if (list_shards) {
    kube::ListOptions lo;
    lo.label_selector = PodSelector(spec);
    auto existing = client_.List(kube::resources::kScrapeShards, spec.ns, lo);
    if (!existing.ok()) return existing.status();
    for (const auto& obj : existing->items) {
      int index = obj.value("spec", json::object()).value("index", -1);
      if (index >= shard_count) {
        auto d = client_.Delete(kube::resources::kScrapeShards, spec.ns, kube::NameOf(obj));
        if (!d.ok() && !d.error().IsNotFound()) return d.status();
        std::lock_guard relock(mu_);
        state_[pool_key].applied.erase(kube::resources::kScrapeShards.ToString() + "/" +
                                       kube::NameOf(obj));
      }
    }
  }

  // 8. Status of every ScrapeShard and of the pool. Lost shards count for nothing.
  double total_series = 0, total_sps = 0;
  int ready = 0, lost = 0, draining = 0, pending = 0;
  std::map<int, std::string> phases;
  std::vector<std::string> lost_detail;
  std::map<int, std::string> lost_figures;  // shard → what it carried when it was last heard
  for (int s = 0; s < shard_count; ++s) {
    const ShardView& sv = shard_views[static_cast<size_t>(s)];
    const assign::ShardState st_s = assignment.shards[static_cast<size_t>(s)];
    // The assignment's judgement (sv.judged): Lost exactly when the shard's targets move
    // without a handoff. (When every shard is down the last plans are kept, yet each shows
    // Lost: that is what they are.)
    std::string phase;
    if (st_s == assign::ShardState::kDraining) {
      phase = "Draining";
      ++draining;
    } else if (!sv.alive) {
      phase = "Lost";
    } else {
      phase = sv.reporting ? "Active" : "Pending";
    }
    if (phase == "Lost") ++lost;
    if (phase == "Pending") ++pending;
    if (phase == "Active") ++ready;
    phases[s] = phase;

    // The Ready condition names the first replica that is down (or starting), and why.
    const std::string& reason = sv.judged.reason;
    const std::string& message = sv.judged.message;
    if (phase == "Lost") {
      lost_detail.push_back("shard " + std::to_string(s) + " (" + reason + ": " + message + ")");
    }
    json pods = json::array();
    for (int r = 0; r < replicas; ++r) pods.push_back(endpoint::PodName(spec.name, s, r));
    json st = {{"phase", phase},
               {"pods", pods},
               {"targets", assignment.owned[static_cast<size_t>(s)]},
               {"handingOff", assignment.handing_off[static_cast<size_t>(s)]},
               {"assignedWeight", std::round(assignment.load[static_cast<size_t>(s)] * 10) / 10},
               {"activeSeries", 0},
               {"samplesPerSecond", 0},
               {"saturation", 0},
               {"remoteWriteLagSeconds", 0},
               {"memoryBytes", 0},
               {"memoryLimitBytes", 0}};
    std::string plan_error;
    if (sv.freshest != nullptr && phase != "Lost") {
      const auto& rep = sv.freshest->report;
      st["activeSeries"] = static_cast<int64_t>(rep.active_series);
      // Rounded: status is for people (kubectl columns) and must not churn on noise.
      st["samplesPerSecond"] = std::round(rep.samples_per_second * 10) / 10;
      st["saturation"] = std::round(rep.saturation * 1000) / 1000;
      st["remoteWriteLagSeconds"] = std::round(rep.remote_write_lag_seconds * 10) / 10;
      // What the autoscaler's memory signal reads (docs/autoscaling.md), in whole MiB.
      constexpr double kMiB = 1 << 20;
      st["memoryBytes"] = static_cast<int64_t>(std::round(rep.memory_bytes / kMiB) * kMiB);
      st["memoryLimitBytes"] = static_cast<int64_t>(rep.memory_limit_bytes);
      total_series += rep.active_series;
      total_sps += rep.samples_per_second;
      plan_error = rep.plan_error;
    }
    if (phase == "Lost") {
      // No load for a shard nobody hears from: its last figures would read as current in
      // `kubectl get scrapeshards`. Null removes them (merge patch); the columns read <none>.
      for (const char* f :
           {"activeSeries", "samplesPerSecond", "saturation", "remoteWriteLagSeconds"}) {
        st[f] = nullptr;
      }
    }
    json prev_shard_conditions = json::array();
    json last_written;
    std::optional<Clock::time_point> heartbeat;
    {
      std::lock_guard relock(mu_);
      PoolState& ps = state_[pool_key];
      // Remembered across restarts (ReadReadyPods above).
      st["readyPods"] = ReadyPodsStatus(ps.pods_ready, pods.get<std::vector<std::string>>());
      auto it = ps.shard_status.find(s);
      if (it != ps.shard_status.end()) {
        last_written = it->second;
        prev_shard_conditions = it->second.value("conditions", json::array());
      }
      if (phase == "Lost" && last_written.is_object() &&
          last_written.value("phase", "") != "Lost") {
        lost_figures[s] = "(" + reason + (message.empty() ? "" : ": " + message) + "); its " +
                          autoscale::Counted(last_written.value("targets", int64_t{0}), "target") +
                          " (" + autoscale::HumanCount(last_written.value("activeSeries", 0.0)) +
                          " series)";
      }
      // The heartbeat time moves at most once a minute: status is not a per-report log.
      if (sv.freshest != nullptr) {
        auto& written = ps.heartbeat_written[s];
        if (sv.freshest->received - written >= std::chrono::minutes(1)) {
          written = sv.freshest->received;
        }
        heartbeat = written;
      } else if (auto w = ps.heartbeat_written.find(s); w != ps.heartbeat_written.end()) {
        heartbeat = w->second;
      }
    }
    if (heartbeat) st["lastHeartbeat"] = Rfc3339(*heartbeat);
    st["conditions"] = json::array({Condition("Ready", sv.reporting && phase != "Lost", reason,
                                              message, prev_shard_conditions),
                                    Condition("PlanApplied", plan_error.empty(),
                                              plan_error.empty() ? "Applied" : "ApplyFailed",
                                              plan_error, prev_shard_conditions)});
    if (st == last_written) continue;
    auto r = client_.Patch(kube::resources::kScrapeShards, spec.ns, ScrapeShardName(spec.name, s),
                           kube::PatchType::kMerge, {{"status", st}}, {}, "status");
    if (!r.ok()) return r.status().WithContext("ScrapeShard status");
    std::lock_guard relock(mu_);
    state_[pool_key].shard_status[s] = st;
  }

  {
    std::lock_guard relock(mu_);
    PoolState& st = state_[pool_key];
    for (const auto& [s, phase] : phases) {
      auto prev = st.shard_phase.find(s);
      if (prev != st.shard_phase.end() && prev->second != phase) {
        if (phase == "Lost") {
          // With figures: what it carried and where that went.
          const auto active = std::count(assignment.shards.begin(), assignment.shards.end(),
                                         assign::ShardState::kActive);
          auto f = lost_figures.find(s);
          events_.Record(
              pool_ref, "Warning", "ShardLost",
              "shard " + std::to_string(s) + " is down" +
                  (f != lost_figures.end() ? " " + f->second : std::string("; its targets")) +
                  " moved to the other " + autoscale::Counted(active, "active shard"));
        } else if (prev->second == "Lost") {
          events_.Record(
              pool_ref, "Normal", "ShardRecovered",
              "shard " + std::to_string(s) + " is back (" + phase + ", " +
                  autoscale::Counted(assignment.owned[static_cast<size_t>(s)], "target") +
                  " assigned)");
        }
      }
    }
    st.shard_phase = phases;
    if (st.last_shard_count != shard_count) {
      if (st.last_shard_count >= 0) {
        events_.Record(pool_ref, "Normal", "ShardsScaled",
                       "scraper shards " + std::to_string(st.last_shard_count) + " -> " +
                           std::to_string(shard_count) + " (" +
                           autoscale::Counted(static_cast<long long>(targets.size()), "target") +
                           ", " + autoscale::HumanCount(total_series) + " series, " +
                           autoscale::HumanCount(total_sps) + " samples/s)");
      }
      st.last_shard_count = shard_count;
    }
  }

  // 8. Autoscaling, on the de-duplicated load of the fresh reports.
  autoscale::PoolLoad load =
      autoscale::MeasurePool(reports_.All(), spec.ns, spec.name, now, options_.heartbeat_timeout);
  PoolAutoscaling::Input as_in;
  as_in.spec = &spec;
  as_in.load = &load;
  as_in.handoff_in_flight = draining > 0 || !assignment.handoffs.empty();
  as_in.shard_lost = lost > 0;
  as_in.now = options_.now();
  as_in.previous_status = pool_json.value("status", json::object()).value("autoscaling", json());
  if (caches_.hpas != nullptr) {
    for (const auto& h : caches_.hpas->List()) {
      if (kube::NamespaceOf(*h) != spec.ns) continue;
      const json& ref = h->value("spec", json::object()).value("scaleTargetRef", json::object());
      if (ref.value("kind", "") == "ScrapePool" && ref.value("name", "") == spec.name &&
          ref.value("apiVersion", "").rfind("shardwise.io/", 0) == 0) {
        as_in.hpas.push_back(kube::KeyOf(*h));
      }
    }
  }
  PoolAutoscaling::Output as_out;
  json autoscaling_status;
  std::string scale_decision;  // for the UI's history
  {
    std::lock_guard relock(mu_);
    as_out = state_[pool_key].autoscaling.Step(as_in);
  }
  for (const auto& e : as_out.events) events_.Record(pool_ref, e.type, e.reason, e.message);
  if (as_out.scale_to) {
    auto scale = client_.GetScale(kube::resources::kScrapePools, spec.ns, spec.name);
    if (!scale.ok()) return scale.status().WithContext("read ScrapePool scale");
    int from = (*scale).value("spec", json::object()).value("replicas", spec.shards);
    (*scale)["spec"]["replicas"] = *as_out.scale_to;
    auto w = client_.UpdateScale(kube::resources::kScrapePools, spec.ns, *scale);
    if (!w.ok()) return w.status().WithContext("write ScrapePool scale");
    std::lock_guard relock(mu_);
    auto ev = state_[pool_key].autoscaling.Committed(from, *as_out.scale_to, as_out.scale_reason,
                                                     as_in.now);
    events_.Record(pool_ref, ev.type, ev.reason, ev.message);
    log::Info("autoscaled shards", {{"pool", pool_key}, {"event", ev.message}});
    scale_decision = ev.message;
    AutoscalerScalings().With({spec.ns, spec.name, *as_out.scale_to > from ? "up" : "down"}).Inc();
  }
  {
    std::lock_guard relock(mu_);
    autoscaling_status = state_[pool_key].autoscaling.Status();
  }

  std::string invalid_msg;
  for (const auto& m : invalid) invalid_msg += (invalid_msg.empty() ? "" : "; ") + m;
  std::string meta_msg;
  for (const auto& m : meta_warnings) meta_msg += (meta_msg.empty() ? "" : "; ") + m;
  for (const auto& e : plan_errors) invalid_msg += (invalid_msg.empty() ? "" : "; ") + e;
  std::string lost_msg;
  for (const auto& d : lost_detail) lost_msg += (lost_msg.empty() ? "" : "; ") + d;
  bool available = ready >= spec.shards;
  bool progressing = draining > 0 || !assignment.handoffs.empty() || ready < spec.shards;
  json conditions = json::array(
      {Condition(
           "Available", available, available ? "AllShardsReporting" : "ShardsNotReporting",
           std::to_string(ready) + " of " + std::to_string(spec.shards) + " shards report load",
           prev_conditions),
       Condition("Progressing", progressing,
                 draining ? "Draining"
                          : (!assignment.handoffs.empty()
                                 ? "HandingOff"
                                 : (progressing ? "WaitingForShards" : "Stable")),
                 std::to_string(assignment.handoffs.size()) + " targets handing over, " +
                     std::to_string(draining) + " shards draining",
                 prev_conditions),
       Condition("Degraded", lost > 0 || !invalid.empty(),
                 lost > 0 ? "ShardsLost" : (!invalid.empty() ? "InvalidMonitors" : "AsExpected"),
                 lost > 0 ? std::to_string(lost) + " shards lost: " + lost_msg : "",
                 prev_conditions),
       Condition("MonitorsValid", invalid.empty() && plan_errors.empty(),
                 invalid.empty() && plan_errors.empty() ? "AllValid" : "InvalidMonitors",
                 invalid_msg, prev_conditions),
       Condition("MetaLabelsAvailable", meta_warnings.empty(),
                 meta_warnings.empty() ? "AllInRole" : "MetaLabelsNotInRole",
                 meta_warnings.empty()
                     ? std::string("relabelings read only meta labels their role produces "
                                   "(ServiceMonitors: ") +
                           opdiscovery::RoleName(spec.service_discovery_role) + ")"
                     : meta_msg,
                 prev_conditions)});
  for (const auto& c : as_out.conditions) {
    conditions.push_back(Condition(c.type, c.status, c.reason, c.message, prev_conditions));
  }
  json status = {{"observedGeneration", spec.generation},
                 {"shards", static_cast<int64_t>(shard_count) - draining},
                 {"scraperShards", shard_count},
                 {"desiredShards", spec.shards},
                 {"readyShards", ready},
                 {"availableShards", ready},
                 {"selector", PodSelector(spec)},
                 {"targets", static_cast<int64_t>(targets.size())},
                 {"monitors", static_cast<int64_t>(monitors.size())},
                 {"series", static_cast<int64_t>(total_series)},
                 {"samplesPerSecond", std::round(total_sps * 10) / 10},
                 {"conditions", conditions}};
  if (!autoscaling_status.is_null()) status["autoscaling"] = autoscaling_status;
  if (options_.snapshots != nullptr) {
    PoolSnapshot snap;
    snap.ns = spec.ns;
    snap.name = spec.name;
    snap.taken = now;
    snap.desired_shards = spec.shards;
    snap.shard_count = shard_count;
    snap.replicas_per_shard = replicas;
    snap.autoscaling_mode = spec.autoscaling == AutoscalingMode::kOperator ? "Operator"
                            : spec.autoscaling == AutoscalingMode::kHpa    ? "HPA"
                                                                           : "Off";
    snap.min_shards = spec.min_shards;
    snap.max_shards = spec.max_shards;
    snap.target_series_per_shard = spec.target_series_per_shard;
    snap.target_samples_per_second_per_shard = spec.target_samples_per_second_per_shard;
    snap.series = total_series;
    snap.samples_per_second = total_sps;
    snap.ready = ready;
    snap.lost = lost;
    snap.draining = draining;
    snap.pending = pending;
    std::map<std::pair<uint32_t, uint64_t>, const plan::TargetLoad*> target_loads;
    for (const auto& lr : live_reports) {
      for (const auto& t : lr.report->per_target) target_loads[{lr.shard, t.id}] = &t;
    }
    for (int s = 0; s < shard_count; ++s) {
      const ShardView& sv = shard_views[static_cast<size_t>(s)];
      ShardSnapshot sh;
      sh.index = s;
      sh.phase = phases[s];
      for (int r = 0; r < replicas; ++r) {
        sh.pods.push_back(endpoint::PodName(spec.name, s, r));
        if (sv.replicas[static_cast<size_t>(r)].alive) ++sh.replicas_alive;
      }
      if (!sv.alive || !sv.judged.message.empty()) {  // a replica down or starting
        sh.ready_reason = sv.judged.reason;
        sh.ready_message = sv.judged.message;
      }
      sh.targets = assignment.owned[static_cast<size_t>(s)];
      sh.handing_off = assignment.handing_off[static_cast<size_t>(s)];
      sh.assigned_weight = assignment.load[static_cast<size_t>(s)];
      if (sv.freshest != nullptr && sh.phase != "Lost") {
        const auto& rep = sv.freshest->report;
        sh.has_load = true;
        sh.series = rep.active_series;
        sh.samples_per_second = rep.samples_per_second;
        sh.saturation = rep.saturation;
        sh.remote_write_lag_seconds = rep.remote_write_lag_seconds;
        sh.last_report = sv.freshest->received;
        sh.plan_error = rep.plan_error;
      }
      snap.shards.push_back(std::move(sh));
    }
    for (const auto& t : targets) {
      TargetSnapshot ts;
      ts.id = t.id;
      ts.job = t.config ? t.config->job_name : "";
      ts.address = t.address;
      ts.labels = t.labels.ToString();
      if (const auto* a = assignment.Find(t.id); a != nullptr && a->owner != assign::kNoShard) {
        ts.owner = static_cast<int>(a->owner);
        ts.weight = a->weight;
        auto it = target_loads.find({a->owner, t.id});
        if (it != target_loads.end()) {
          ts.series = it->second->last_success_unix_ms > 0 ? it->second->series : -1;
          ts.last_success_unix_ms = it->second->last_success_unix_ms;
          ts.last_error = it->second->last_error;
        }
      }
      snap.targets.push_back(std::move(ts));
    }
    std::sort(snap.targets.begin(), snap.targets.end(), [](const auto& a, const auto& b) {
      return std::tie(a.owner, a.job, a.address) < std::tie(b.owner, b.job, b.address);
    });
    for (const auto& h : assignment.handoffs) {
      HandoffSnapshot hs;
      hs.target = h.target;
      hs.from = h.from == assign::kNoShard ? -1 : static_cast<int>(h.from);
      hs.to = h.to == assign::kNoShard ? -1 : static_cast<int>(h.to);
      hs.since = h.since;
      if (h.cutover != assign::Time{}) hs.cutover = h.cutover;
      snap.handoffs.push_back(hs);
    }
    snap.monitors = std::move(monitor_views);
    snap.conditions = conditions;
    snap.autoscaling = autoscaling_status;
    options_.snapshots->Publish(std::move(snap), scale_decision);
  }
  PoolTargets().With({spec.ns, spec.name}).Set(static_cast<double>(targets.size()));
  PoolShards().With({spec.ns, spec.name, "ready"}).Set(ready);
  PoolShards().With({spec.ns, spec.name, "lost"}).Set(lost);
  PoolShards().With({spec.ns, spec.name, "pending"}).Set(pending);
  PoolShards().With({spec.ns, spec.name, "draining"}).Set(draining);
  PoolSeries().With({spec.ns, spec.name}).Set(static_cast<double>(total_series));
  PoolSamplesPerSecond().With({spec.ns, spec.name}).Set(total_sps);
  PoolDesiredShards().With({spec.ns, spec.name}).Set(spec.shards);
  PoolHandoffs().With({spec.ns, spec.name}).Set(static_cast<double>(assignment.handoffs.size()));
  // Both directions exist from the start, so dashboards and alerts see 0 rather than nothing.
  AutoscalerScalings().With({spec.ns, spec.name, "up"});
  AutoscalerScalings().With({spec.ns, spec.name, "down"});
  const bool autoscaled = spec.autoscaling != AutoscalingMode::kOff;
  PoolMaxShards().With({spec.ns, spec.name}).Set(autoscaled ? spec.max_shards : 0);
  PoolTargetSeriesPerShard()
      .With({spec.ns, spec.name})
      .Set(autoscaled ? static_cast<double>(spec.target_series_per_shard) : 0);
  {
    std::lock_guard relock(mu_);
    if (state_[pool_key].last_status == status) return Status::OK();
  }
  auto r = client_.Patch(kube::resources::kScrapePools, spec.ns, spec.name, kube::PatchType::kMerge,
                         {{"status", status}}, {}, "status");
  if (!r.ok()) return r.status().WithContext("ScrapePool status");
  std::lock_guard relock(mu_);
  state_[pool_key].last_status = status;
  return Status::OK();
}

}  // namespace shardwise::pool
