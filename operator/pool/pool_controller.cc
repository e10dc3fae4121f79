#include "operator/pool/pool_controller.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "common/log/log.h"
#include "common/metrics/registry.h"
#include "operator/assign/assigner.h"
#include "operator/assign/target_id.h"
#include "operator/discovery/discover.h"
#include "operator/discovery/monitor.h"
#include "operator/endpoint/naming.h"
#include "operator/kube/resource.h"
#include "operator/pool/plan_builder.h"

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
metrics::CounterFamily& Moves() {
  static auto& f = metrics::Registry::Default().AddCounterFamily(
      "shardwise_assignment_moved_targets_total", "Targets moved to another shard by reassignment.",
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
      options_(std::move(options)) {}

PoolController::~PoolController() { Stop(); }

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

void PoolController::Forget(const std::string& pool_key) {
  std::string ns, name;
  kube::SplitKey(pool_key, &ns, &name);
  for (const auto& k : plans_.Keys()) {
    if (k.ns == ns && k.pool == name) {
      plans_.Remove(k);
      reports_.Remove(k);
    }
  }
  std::lock_guard lock(mu_);
  state_.erase(pool_key);
}

Status PoolController::Reconcile(const std::string& pool_key) {
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
  json prev_conditions =
      pool_json.value("status", json::object()).value("conditions", json::array());

  std::unique_lock lock(mu_);
  PoolState& state = state_[pool_key];

  auto spec_or = ParsePoolSpec(pool_json);
  if (!spec_or.ok()) {
    json status = {
        {"observedGeneration", pool_json["metadata"].value("generation", 0)},
        {"conditions", json::array({Condition("Degraded", true, "InvalidSpec",
                                              spec_or.status().message(), prev_conditions)})}};
    if (status != state.last_status) {
      events_.Record(pool_ref, "Warning", "InvalidSpec", spec_or.status().message());
      json obj = {{"apiVersion", "shardwise.io/v1alpha1"},
                  {"kind", "ScrapePool"},
                  {"metadata",
                   {{"name", pool_json["metadata"]["name"]},
                    {"namespace", pool_json["metadata"]["namespace"]}}},
                  {"status", status}};
      auto r = client_.Patch(kube::resources::kScrapePools,
                             obj["metadata"]["namespace"].get<std::string>(),
                             obj["metadata"]["name"].get<std::string>(), kube::PatchType::kMerge,
                             {{"status", status}}, {}, "status");
      if (!r.ok()) return r.status();
      state.last_status = status;
    }
    return Status::OK();
  }
  const PoolSpec& spec = *spec_or;

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

  // 2. The cluster objects discovery reads: caches, plus Secrets/ConfigMaps read on demand.
  opdiscovery::ClusterView view;
  for (const auto& o : caches_.namespaces->List()) view.AddNamespace(*o);
  std::set<std::string> scope;
  for (const auto& [m, _] : monitors) {
    for (const auto& ns : opdiscovery::MonitorNamespaces(m, view)) scope.insert(ns);
  }
  std::vector<kube::ObjectPtr> keep_alive;
  auto add_scoped = [&](const kube::Store* store,
                        void (opdiscovery::ClusterView::*add)(const json&)) {
    if (store == nullptr) return;
    for (const auto& o : store->List()) {
      if (scope.count(kube::NamespaceOf(*o))) (view.*add)(*o);
    }
  };
  add_scoped(caches_.services, &opdiscovery::ClusterView::AddService);
  add_scoped(caches_.endpoint_slices, &opdiscovery::ClusterView::AddEndpointSlice);
  add_scoped(caches_.pods, &opdiscovery::ClusterView::AddPod);
  std::vector<json> fetched;  // owns on-demand objects while the view points at them
  fetched.reserve(64);
  std::set<std::pair<std::string, std::string>> secret_refs, cm_refs;
  for (const auto& [m, _] : monitors) {
    for (auto& r : SecretRefs(m)) secret_refs.insert(r);
    for (auto& r : ConfigMapRefs(m)) cm_refs.insert(r);
  }
  for (const auto& [ns, name] : secret_refs) {
    auto r = client_.Get(kube::resources::kSecrets, ns, name);
    if (r.ok()) {
      fetched.push_back(std::move(*r));
    } else if (!r.error().IsNotFound()) {
      return r.status();
    }
  }
  size_t secrets_end = fetched.size();
  for (const auto& [ns, name] : cm_refs) {
    auto r = client_.Get(kConfigMaps, ns, name);
    if (r.ok()) {
      fetched.push_back(std::move(*r));
    } else if (!r.error().IsNotFound()) {
      return r.status();
    }
  }
  for (size_t i = 0; i < fetched.size(); ++i) {
    if (i < secrets_end) {
      view.AddSecret(fetched[i]);
    } else {
      view.AddConfigMap(fetched[i]);
    }
  }

  // 3. Targets.
  opdiscovery::DiscoveryOptions dopts;
  dopts.default_interval_ms = spec.default_interval.count();
  dopts.default_timeout_ms = spec.default_timeout.count();
  std::vector<opdiscovery::Target> targets;
  std::set<uint64_t> seen_ids;
  for (const auto& [m, obj] : monitors) {
    auto r = opdiscovery::Discover(m, view, dopts);
    if (!r.ok()) {
      std::string msg = m.Describe() + ": " + r.status().message();
      invalid.insert(msg);
      if (!state.invalid_monitors.count(msg)) {
        events_.Record(kube::ObjectReference::From(obj), "Warning", "InvalidMonitor",
                       r.status().message());
      }
      continue;
    }
    for (auto& t : r->targets) {
      if (seen_ids.insert(t.id).second) targets.push_back(std::move(t));
    }
  }
  state.invalid_monitors = invalid;

  // 4. Assignment: weights from reports, heartbeats for liveness, confirmations for handoffs.
  auto now = Clock::now();
  std::unordered_map<uint64_t, double> measured;
  std::vector<assign::ScrapeConfirmation> confirmations;
  std::map<int, endpoint::ReportStore::Entry> shard_reports;  // replica 0's, else any
  for (const auto& [key, entry] : reports_.All()) {
    if (key.ns != spec.ns || key.pool != spec.name) continue;
    if (!shard_reports.count(key.shard) || key.replica == 0) shard_reports[key.shard] = entry;
    for (const auto& t : entry.report.per_target) {
      if (t.series > 0) measured[t.id] = std::max(measured[t.id], t.series);
      if (t.last_success_unix_ms > 0) {
        confirmations.push_back(
            {t.id, static_cast<uint32_t>(key.shard),
             Clock::time_point(std::chrono::milliseconds(t.last_success_unix_ms))});
      }
    }
  }
  std::vector<assign::TargetInput> inputs;
  inputs.reserve(targets.size());
  for (const auto& t : targets) {
    auto it = measured.find(t.id);
    inputs.push_back(
        {t.id, assign::JobKey(t.config->job_name), it == measured.end() ? -1.0 : it->second});
  }
  std::vector<assign::ShardState> shards =
      state.assignment ? state.assignment->shards : std::vector<assign::ShardState>{};
  shards = assign::ScaleTo(std::move(shards), static_cast<uint32_t>(spec.shards));
  for (size_t i = 0; i < shards.size(); ++i) {
    auto it = shard_reports.find(static_cast<int>(i));
    bool heard_recently =
        it != shard_reports.end() && now - it->second.received < options_.heartbeat_timeout;
    bool ever_heard = it != shard_reports.end();
    if (shards[i] == assign::ShardState::kActive && ever_heard && !heard_recently) {
      shards[i] = assign::ShardState::kLost;
    } else if (shards[i] == assign::ShardState::kLost && heard_recently &&
               i < static_cast<size_t>(spec.shards)) {
      shards[i] = assign::ShardState::kActive;
    }
  }
  bool any_active = std::any_of(shards.begin(), shards.end(),
                                [](auto s) { return s == assign::ShardState::kActive; });
  if (!any_active) {  // every shard lost: keep the last plans rather than assign to nobody
    for (auto& s : shards) {
      if (s == assign::ShardState::kLost) s = assign::ShardState::kActive;
    }
  }
  assign::AssignInput ain;
  ain.targets = inputs;
  ain.shards = shards;
  ain.previous = state.assignment ? &*state.assignment : nullptr;
  ain.confirmations = confirmations;
  ain.now = now;
  ain.options.epsilon = spec.load_factor - 1.0;
  ain.options.handoff_timeout = spec.handoff_timeout;
  auto assigned = assign::Assign(ain);
  if (!assigned.ok()) return assigned.status();
  assign::Assignment assignment = std::move(assigned).value();
  Moves().With({spec.ns, spec.name}).Inc(static_cast<double>(assignment.stats.moved_targets));

  // Shards past the removable tail (fully drained) leave the StatefulSet and the plans.
  uint32_t removable = assign::RemovableTail(assignment);
  size_t shard_count = assignment.shards.size() - removable;

  // 5. Plans.
  std::vector<std::string> plan_errors;
  auto plans = BuildPlans(spec, targets, assignment, view, &plan_errors);
  for (size_t s = 0; s < shard_count; ++s) {
    for (int r = 0; r < spec.replicas_per_shard; ++r) {
      plans_.Publish({spec.ns, spec.name, static_cast<int>(s), r}, plans[s][r]);
    }
  }
  for (const auto& k : plans_.Keys()) {
    if (k.ns == spec.ns && k.pool == spec.name &&
        (k.shard >= static_cast<int>(shard_count) || k.replica >= spec.replicas_per_shard)) {
      plans_.Remove(k);
    }
  }
  if (removable > 0) {
    assignment.shards.resize(shard_count);
    assignment.load.resize(shard_count);
    assignment.owned.resize(shard_count);
    assignment.handing_off.resize(shard_count);
  }
  state.assignment = assignment;
  lock.unlock();

  // 6. Owned objects, by server-side apply.
  auto apply = [&](const kube::GroupVersionResource& gvr, const json& obj) -> Status {
    auto r = client_.Apply(gvr, spec.ns, obj, kFieldManager, /*force=*/true);
    return r.ok() ? Status::OK()
                  : r.status().WithContext("apply " + gvr.ToString() + " " + kube::NameOf(obj));
  };
  SHARDWISE_RETURN_IF_ERROR(apply(kConfigMaps, BuildConfigMap(spec)));
  SHARDWISE_RETURN_IF_ERROR(apply(kube::resources::kServices, BuildService(spec)));
  SHARDWISE_RETURN_IF_ERROR(
      apply(kube::resources::kPodDisruptionBudgets, BuildPodDisruptionBudget(spec)));
  for (int r = 0; r < spec.replicas_per_shard; ++r) {
    SHARDWISE_RETURN_IF_ERROR(
        apply(kube::resources::kStatefulSets,
              BuildStatefulSet(spec, r, static_cast<int>(shard_count), options_.settings)));
  }
  for (size_t s = 0; s < shard_count; ++s) {
    SHARDWISE_RETURN_IF_ERROR(
        apply(kube::resources::kScrapeShards, BuildScrapeShard(spec, static_cast<int>(s))));
  }
  // Surplus ScrapeShards (after a scale-down completed).
  kube::ListOptions lo;
  lo.label_selector = PodSelector(spec);
  auto existing = client_.List(kube::resources::kScrapeShards, spec.ns, lo);
  if (!existing.ok()) return existing.status();
  for (const auto& obj : existing->items) {
    int index = obj.value("spec", json::object()).value("index", -1);
    if (index >= static_cast<int>(shard_count)) {
      auto d = client_.Delete(kube::resources::kScrapeShards, spec.ns, kube::NameOf(obj));
      if (!d.ok() && !d.error().IsNotFound()) return d.status();
    }
  }

  // 7. Status of every ScrapeShard and of the pool.
  double total_series = 0, total_sps = 0;
  int ready = 0, lost = 0, draining = 0;
  std::map<int, std::string> phases;
  for (size_t s = 0; s < shard_count; ++s) {
    auto it = shard_reports.find(static_cast<int>(s));
    bool fresh =
        it != shard_reports.end() && now - it->second.received < options_.heartbeat_timeout;
    std::string phase;
    switch (assignment.shards[s]) {
      case assign::ShardState::kActive:
        phase = fresh ? "Active" : "Pending";
        break;
      case assign::ShardState::kDraining:
        phase = "Draining";
        ++draining;
        break;
      case assign::ShardState::kLost:
        phase = "Lost";
        ++lost;
        break;
    }
    if (fresh && assignment.shards[s] == assign::ShardState::kActive) ++ready;
    phases[static_cast<int>(s)] = phase;
    json pods = json::array();
    for (int r = 0; r < spec.replicas_per_shard; ++r)
      pods.push_back(endpoint::PodName(spec.name, static_cast<int>(s), r));
    json st = {{"phase", phase},
               {"pods", pods},
               {"targets", assignment.owned[s]},
               {"handingOff", assignment.handing_off[s]},
               {"assignedWeight", assignment.load[s]}};
    if (it != shard_reports.end()) {
      const auto& rep = it->second.report;
      st["activeSeries"] = static_cast<int64_t>(rep.active_series);
      // Rounded: status is for people (kubectl columns) and must not churn on noise.
      st["samplesPerSecond"] = std::round(rep.samples_per_second * 10) / 10;
      st["saturation"] = std::round(rep.saturation * 1000) / 1000;
      st["remoteWriteLagSeconds"] = std::round(rep.remote_write_lag_seconds * 10) / 10;
      st["lastHeartbeat"] = Rfc3339(it->second.received);
      total_series += rep.active_series;
      total_sps += rep.samples_per_second;
    } else {
      st["activeSeries"] = 0;
      st["samplesPerSecond"] = 0;
    }
    auto r = client_.Patch(kube::resources::kScrapeShards, spec.ns,
                           ScrapeShardName(spec.name, static_cast<int>(s)), kube::PatchType::kMerge,
                           {{"status", st}}, {}, "status");
    if (!r.ok()) return r.status().WithContext("ScrapeShard status");
  }

  {
    std::lock_guard relock(mu_);
    PoolState& st = state_[pool_key];
    for (const auto& [s, phase] : phases) {
      auto prev = st.shard_phase.find(s);
      if (prev != st.shard_phase.end() && prev->second != phase) {
        if (phase == "Lost") {
          events_.Record(pool_ref, "Warning", "ShardLost",
                         "shard " + std::to_string(s) + " sent no report for " +
                             std::to_string(options_.heartbeat_timeout.count() / 1000) +
                             "s; its targets moved to the other shards");
        } else if (prev->second == "Lost") {
          events_.Record(pool_ref, "Normal", "ShardRecovered",
                         "shard " + std::to_string(s) + " is back");
        }
      }
    }
    st.shard_phase = phases;
    if (st.last_shard_count != static_cast<int>(shard_count)) {
      if (st.last_shard_count >= 0) {
        events_.Record(pool_ref, "Normal", "ShardsScaled",
                       "scraper shards " + std::to_string(st.last_shard_count) + " -> " +
                           std::to_string(shard_count));
      }
      st.last_shard_count = static_cast<int>(shard_count);
    }
  }

  std::string invalid_msg;
  for (const auto& m : invalid) invalid_msg += (invalid_msg.empty() ? "" : "; ") + m;
  for (const auto& e : plan_errors) invalid_msg += (invalid_msg.empty() ? "" : "; ") + e;
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
                 lost > 0 ? std::to_string(lost) + " shards lost" : "", prev_conditions),
       Condition("MonitorsValid", invalid.empty() && plan_errors.empty(),
                 invalid.empty() && plan_errors.empty() ? "AllValid" : "InvalidMonitors",
                 invalid_msg, prev_conditions)});
  json status = {{"observedGeneration", spec.generation},
                 {"shards", static_cast<int64_t>(shard_count) - draining},
                 {"desiredShards", spec.shards},
                 {"readyShards", ready},
                 {"availableShards", ready},
                 {"selector", PodSelector(spec)},
                 {"targets", static_cast<int64_t>(targets.size())},
                 {"monitors", static_cast<int64_t>(monitors.size())},
                 {"series", static_cast<int64_t>(total_series)},
                 {"samplesPerSecond", std::round(total_sps * 10) / 10},
                 {"conditions", conditions}};
  PoolTargets().With({spec.ns, spec.name}).Set(static_cast<double>(targets.size()));
  PoolShards().With({spec.ns, spec.name, "ready"}).Set(ready);
  PoolShards().With({spec.ns, spec.name, "lost"}).Set(lost);
  PoolShards().With({spec.ns, spec.name, "draining"}).Set(draining);
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
