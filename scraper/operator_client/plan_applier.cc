#include "scraper/operator_client/plan_applier.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "common/duration.h"
#include "common/log/log.h"
#include "common/relabel/parse.h"
#include "scraper/operator_client/plan_file.h"
#include "scraper/scrape/target.h"

namespace shardwise::opclient {
namespace {

uint64_t Hash(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

// Everything that must be equal for two targets to share a scrape job.
std::string JobSettingsKey(const plan::Target& t) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [name, values] : t.params) params[name] = values;
  nlohmann::json key = {
      {"job", t.job},
      {"honorLabels", t.honor_labels},
      {"honorTimestamps", t.honor_timestamps},
      {"limits",
       {t.sample_limit, t.label_limit, t.label_name_length_limit, t.label_value_length_limit,
        t.body_size_limit}},
      {"metricRelabelings", t.metric_relabelings},
      {"params", params},
  };
  if (t.tls) {
    key["tls"] = {t.tls->ca_pem, t.tls->cert_pem, t.tls->key_pem, t.tls->server_name,
                  t.tls->insecure_skip_verify};
  }
  if (t.auth) {
    key["auth"] = {t.auth->bearer_token, t.auth->basic_username, t.auth->basic_password};
  }
  return key.dump();
}

scrape::ForwardWindow ForwardWindowOf(const plan::Target& t) {
  scrape::ForwardWindow w;
  if (t.handoff == plan::Handoff::kIncoming) {
    w.from_ms = t.cutover_unix_ms > 0 ? t.cutover_unix_ms : w.until_ms;
  } else if (t.handoff == plan::Handoff::kOutgoing && t.cutover_unix_ms > 0) {
    w.until_ms = t.cutover_unix_ms;
  }
  return w;
}

}  // namespace

PlanApplier::PlanApplier(Options options, scrape::ScrapeManager& manager)
    : options_(std::move(options)), manager_(manager) {}

std::string PlanApplier::ScrapeJobName(const plan::Target& target) {
  return fmt::format("{}@{:016x}", target.job, Hash(JobSettingsKey(target)));
}

Result<PlanApplier::Built> PlanApplier::Build(const plan::ScrapePlan& plan) {
  Built b;
  b.config.global = options_.base_config.global;
  b.config.raw = options_.base_config.raw;
  b.config.scrape_configs = options_.base_config.scrape_configs;
  std::map<std::string, size_t> index;  // scrape job -> position in scrape_configs
  const relabel::Relabeler no_relabeling;
  for (const auto& t : plan.targets) {
    const std::string settings = JobSettingsKey(t);
    const std::string name = fmt::format("{}@{:016x}", t.job, Hash(settings));
    auto [it, inserted] = index.emplace(name, b.config.scrape_configs.size());
    if (inserted) {
      scrape::ScrapeConfig c;
      c.job_name = name;
      c.scrape_interval = t.interval;
      c.scrape_timeout = t.timeout;
      c.scheme = t.scheme;
      c.metrics_path = t.path;
      for (const auto& [param, values] : t.params) c.params.emplace_back(param, values);
      c.honor_labels = t.honor_labels;
      c.honor_timestamps = t.honor_timestamps;
      c.sample_limit = t.sample_limit;
      c.label_limit = t.label_limit;
      c.label_name_length_limit = t.label_name_length_limit;
      c.label_value_length_limit = t.label_value_length_limit;
      c.body_size_limit = t.body_size_limit;
      if (t.tls) {
        // PEM material stays in memory: the HTTP client takes inline PEM, so no key
        // ever lands on disk.
        http::TlsConfig tls;
        tls.ca = t.tls->ca_pem;
        tls.cert = t.tls->cert_pem;
        tls.key = t.tls->key_pem;
        tls.server_name = t.tls->server_name;
        tls.insecure_skip_verify = t.tls->insecure_skip_verify;
        c.tls_config = std::move(tls);
      }
      if (t.auth && !t.auth->bearer_token.empty()) {
        c.authorization =
            http::Authorization{.type = "Bearer", .credentials = t.auth->bearer_token};
      } else if (t.auth && !t.auth->basic_username.empty()) {
        c.basic_auth =
            http::BasicAuth{.username = t.auth->basic_username, .password = t.auth->basic_password};
      }
      Result<std::vector<relabel::RelabelConfig>> rules = relabel::FromJson(t.metric_relabelings);
      if (!rules.ok()) return rules.status().WithContext("job " + t.job + ": metricRelabelings");
      c.metric_relabel_configs = std::move(rules).value();
      // Only the per-job settings: targets come and go without touching running loops.
      c.fingerprint = Hash("plan/v1|" + settings);
      c.static_configs.push_back(sd::TargetGroup{.source = "plan"});
      b.config.scrape_configs.push_back(std::move(c));
    }
    scrape::ScrapeConfig& c = b.config.scrape_configs[it->second];

    LabelsBuilder lb(t.labels);
    if (!lb.Has("job")) lb.Set("job", t.job);
    lb.Set(sd::kAddressLabel, t.address);
    lb.Set("__scheme__", t.scheme);
    lb.Set("__metrics_path__", t.path);
    lb.Set("__scrape_interval__", FormatDuration(t.interval));
    lb.Set("__scrape_timeout__", FormatDuration(t.timeout));
    Labels labels = lb.Build();

    Result<std::optional<scrape::Target>> built =
        scrape::BuildTarget(c, no_relabeling, labels, Labels(), nullptr);
    if (!built.ok()) {
      return built.status().WithContext("target " + plan::TargetIdHex(t.id));
    }
    const uint64_t hash = built->value().hash;
    b.plan_to_hash[t.id] = hash;
    b.job_of_hash[hash] = name;
    c.static_configs.front().targets.push_back(std::move(labels));
  }
  for (const auto& [name, i] : index) b.jobs.insert(name);
  return b;
}

Status PlanApplier::Apply(const plan::ScrapePlan& plan) {
  std::lock_guard apply_lock(apply_mu_);
  Status st = ApplyLocked(plan);
  std::lock_guard lock(mu_);
  if (st.ok()) {
    last_error_.reset();
  } else {
    last_error_ = std::make_pair(plan.generation, st.ToString());
  }
  return st;
}

Status PlanApplier::ApplyLocked(const plan::ScrapePlan& plan) {
  Result<Built> built = Build(plan);
  if (!built.ok()) return built.status();

  // Forward gates first, so an incoming target's very first scrape is already held back.
  // Targets leaving keep their window until their loops have stopped.
  std::unordered_map<uint64_t, scrape::ForwardWindow> windows;
  for (const auto& t : plan.targets) {
    if (t.handoff == plan::Handoff::kNone) continue;
    windows[built->plan_to_hash[t.id]] = ForwardWindowOf(t);
  }
  std::unordered_map<uint64_t, scrape::ForwardWindow> during = windows;
  {
    std::lock_guard lock(mu_);
    if (current_) {
      for (const auto& t : current_->targets) {
        auto h = plan_to_hash_.find(t.id);
        if (t.handoff != plan::Handoff::kNone && h != plan_to_hash_.end()) {
          during.emplace(h->second, ForwardWindowOf(t));
        }
      }
    }
  }
  manager_.forward_gates().Replace(std::move(during));

  // Targets that moved to another shard and leave this plan: mark them just before they
  // go, so their loops stop without staleness markers (the new owner continues the series).
  // A move is a target the previous plan handed over (outgoing), or one this plan lists as
  // released: a long poll may skip the generation that marked it outgoing. Only a target
  // that left discovery stops with markers. Marking only at removal means a handoff the
  // operator called off leaves no mark behind.
  // Likewise a target that stays with the same labels but moves to another scrape job (its
  // settings changed): the new loop continues its series, as a Prometheus reload does.
  std::map<uint64_t, const plan::Target*> next;
  for (const auto& t : plan.targets) next[t.id] = &t;
  std::vector<uint64_t> released = plan.released;
  std::sort(released.begin(), released.end());
  {
    std::lock_guard lock(mu_);
    if (current_) {
      for (const auto& t : current_->targets) {
        auto h = plan_to_hash_.find(t.id);
        if (h == plan_to_hash_.end()) continue;
        auto n = next.find(t.id);
        bool silent = false;
        if (n == next.end()) {
          silent = t.handoff == plan::Handoff::kOutgoing ||
                   std::binary_search(released.begin(), released.end(), t.id);
        } else {
          silent = n->second->labels == t.labels && built->plan_to_hash[t.id] != h->second;
        }
        if (silent && manager_.Loop(job_of_hash_[h->second], h->second) != nullptr) {
          manager_.MarkHandoff(h->second);
        }
      }
    }
  }

  // Plan targets travel as each job's static_configs: the manager diffs them, touching
  // only targets that differ, and restarts a job's loops only when its settings changed.
  Status applied = manager_.ApplyConfig(built->config);
  if (!applied.ok()) {
    // Nothing changed: the previous plan's windows still hold.
    std::unordered_map<uint64_t, scrape::ForwardWindow> previous;
    std::lock_guard lock(mu_);
    if (current_) {
      for (const auto& t : current_->targets) {
        auto h = plan_to_hash_.find(t.id);
        if (t.handoff != plan::Handoff::kNone && h != plan_to_hash_.end()) {
          previous.emplace(h->second, ForwardWindowOf(t));
        }
      }
    }
    manager_.forward_gates().Replace(std::move(previous));
    return applied;
  }
  manager_.forward_gates().Replace(std::move(windows));

  std::lock_guard lock(mu_);
  current_ = plan;
  plan_to_hash_ = std::move(built->plan_to_hash);
  hash_to_plan_.clear();
  for (const auto& [id, hash] : plan_to_hash_) hash_to_plan_[hash] = id;
  job_of_hash_ = std::move(built->job_of_hash);
  jobs_ = std::move(built->jobs);
  log::Info(
      "scrape plan applied",
      {{"generation", plan.generation}, {"targets", plan.targets.size()}, {"jobs", jobs_.size()}});
  return Status::OK();
}

std::optional<uint64_t> PlanApplier::PlanId(uint64_t scrape_hash) const {
  std::lock_guard lock(mu_);
  auto it = hash_to_plan_.find(scrape_hash);
  if (it == hash_to_plan_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint64_t> PlanApplier::ScrapeHash(uint64_t plan_id) const {
  std::lock_guard lock(mu_);
  auto it = plan_to_hash_.find(plan_id);
  if (it == plan_to_hash_.end()) return std::nullopt;
  return it->second;
}

std::optional<plan::ScrapePlan> PlanApplier::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::optional<std::pair<uint64_t, std::string>> PlanApplier::LastError() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

std::set<std::string> PlanApplier::Jobs() const {
  std::lock_guard lock(mu_);
  return jobs_;
}

}  // namespace shardwise::opclient
