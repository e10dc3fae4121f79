// Target: one endpoint to scrape, built from a discovered label set the way Prometheus's
// PopulateLabels does it:
//   1. the target's labels, then the group's labels where the target has none;
//   2. defaults where unset: job, __scrape_interval__, __scrape_timeout__,
//      __metrics_path__, __scheme__, and __param_<name> for each configured param;
//   3. relabel_configs (may drop the target);
//   4. __address__ must be set (a default port is added for the scheme, as Prometheus 2.42
//      does), interval/timeout labels must parse, be non-zero and timeout <= interval;
//   5. __meta_* labels are removed, instance defaults to __address__.
// The target's public labels are those without the "__" prefix; the scrape URL comes from
// __scheme__, __address__, __metrics_path__ and the params (overridden by __param_* labels).
// Identity: a stable 64-bit hash of job + address + metrics path + params, the same in
// every process and equal to the operator's assign::TargetId, so plan ids and handoff marks
// name the same target here.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/labels.h"
#include "common/relabel/relabeler.h"
#include "common/status.h"
#include "scraper/scrape/config.h"

namespace shardwise::scrape {

struct Target {
  std::string job;
  Labels labels;             // final, without "__" labels; what every series gets
  Labels discovered_labels;  // before relabeling, for status pages
  std::string scheme;
  std::string address;
  std::string metrics_path;
  std::vector<std::pair<std::string, std::string>> params;
  std::chrono::milliseconds interval{0};
  std::chrono::milliseconds timeout{0};
  uint64_t hash = 0;  // identity: TargetHash(job, address, metrics_path, params)

  std::string Url() const;
  bool operator==(const Target&) const = default;
};

// Stable identity hash: xxHash3 over length-prefixed fields, params sorted (the encoding of
// operator/assign/target_id.h). The scheme is not part of the identity.
uint64_t TargetHash(std::string_view job, std::string_view address, std::string_view path,
                    const std::vector<std::pair<std::string, std::string>>& params = {});

// Builds the target from one discovered label set of a group. Returns nullopt when
// relabeling drops it; an error for an unusable result (no address, bad interval...).
// `discovered` receives the pre-relabeling labels either way.
Result<std::optional<Target>> BuildTarget(const ScrapeConfig& config,
                                          const relabel::Relabeler& relabeler,
                                          const Labels& target_labels, const Labels& group_labels,
                                          Labels* discovered);

}  // namespace shardwise::scrape
