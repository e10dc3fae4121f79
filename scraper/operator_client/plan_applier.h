// PlanApplier: turns the operator's ScrapePlan into the scrape manager's world.
//
// Targets sharing a job and every per-job scrape setting (honor flags, limits, metric
// relabelings, TLS, auth, URL params) become one scrape job named "<job>@<16 hex digits of
// those settings>", so a change to one target's settings never disturbs its neighbours.
// Interval, timeout, scheme and path travel per target as __scrape_interval__,
// __scrape_timeout__, __scheme__ and __metrics_path__ labels (as in http_sd). The jobs have
// no target relabeling, so each target's labels come out exactly as planned (a missing
// `job` label is set to the plan's job; a missing `instance` defaults to the address).
//
// Apply() diffs through the manager: a job whose settings are unchanged keeps its
// fingerprint, so its unchanged targets keep running untouched. A target that leaves the
// plan because it moved to another shard stops silently (the new owner continues the
// series): the previous applied plan marked it `outgoing`, or the new plan lists it as
// `released` (the scraper may have skipped the generation that marked it). Any other target
// that leaves — it left discovery — stops with staleness markers, as in Prometheus. TLS PEM
// contents are written to `<data dir>/tls/<hash>.pem` (0600), named by content so an unchanged
// secret keeps the job's fingerprint.
//
// Handoff marks set the manager's forward gates (scrape/forward_gate.h): an incoming
// target forwards nothing until its cutover, an outgoing one nothing from it on. A plan that
// fails to apply is remembered (LastError) for the load report; the next Apply clears it.
//
// The jobs of `base_config` (e.g. from a config file) are applied alongside the plan's.
// Thread-safe; Apply calls are serialised.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/plan/plan.h"
#include "common/status.h"
#include "scraper/scrape/config.h"
#include "scraper/scrape/scrape_manager.h"

namespace shardwise::opclient {

class PlanApplier {
 public:
  struct Options {
    std::string data_dir;
    scrape::Config base_config;
  };

  PlanApplier(Options options, scrape::ScrapeManager& manager);

  // Applies `plan` (already validated). On error the manager keeps its previous state as
  // far as the manager guarantees (ApplyConfig validates before changing anything).
  Status Apply(const plan::ScrapePlan& plan);

  // The plan id of the manager's target `scrape_hash`, if it came from the plan.
  std::optional<uint64_t> PlanId(uint64_t scrape_hash) const;
  // The scrape manager's hash of the plan target `plan_id`.
  std::optional<uint64_t> ScrapeHash(uint64_t plan_id) const;
  // Generation, shard and replica of the last applied plan (nullopt before the first).
  std::optional<plan::ScrapePlan> Current() const;
  // Scrape job names the current plan created.
  std::set<std::string> Jobs() const;
  // The last Apply's failure: the plan's generation and why (nullopt after a success).
  std::optional<std::pair<uint64_t, std::string>> LastError() const;

  // The scrape job name for a plan target (exposed for tests).
  static std::string ScrapeJobName(const plan::Target& target);

 private:
  struct Built {
    scrape::Config config;
    std::map<uint64_t, uint64_t> plan_to_hash;
    std::set<std::string> jobs;  // scrape jobs made from the plan
    std::map<uint64_t, std::string> job_of_hash;
  };
  Result<Built> Build(const plan::ScrapePlan& plan);
  Status ApplyLocked(const plan::ScrapePlan& plan);

  const Options options_;
  scrape::ScrapeManager& manager_;

  std::mutex apply_mu_;  // serialises Apply
  mutable std::mutex mu_;
  std::optional<plan::ScrapePlan> current_;
  std::map<uint64_t, uint64_t> plan_to_hash_;
  std::map<uint64_t, uint64_t> hash_to_plan_;
  std::map<uint64_t, std::string> job_of_hash_;
  std::set<std::string> jobs_;
  std::optional<std::pair<uint64_t, std::string>> last_error_;
};

}  // namespace shardwise::opclient
