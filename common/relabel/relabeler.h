// Relabeler: a list of relabel rules compiled once (regexes and $-templates parsed up front)
// and applied to label sets with Prometheus's semantics (model/relabel.Process):
// rules run in order, each sees the previous one's output, and a keep/drop/keepequal/
// dropequal rule that rejects the set stops processing. Process() is const and thread-safe;
// copies share the compiled rules, so a Relabeler is cheap to copy and pass around.
//
// Differences from Prometheus, all outside what valid configs hit in practice: labelmap
// visits labels in the builder's order (base labels in name order, then added ones) and skips
// results that are empty names; lowercase/uppercase use glibc's Unicode case tables (the
// simple mappings Go uses too) and fall back to ASCII if the C.UTF-8 locale is missing.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "common/labels.h"
#include "common/relabel/config.h"
#include "common/status.h"

namespace shardwise::relabel {

class Relabeler {
 public:
  // No rules: every label set is kept unchanged.
  Relabeler() = default;

  // Validates every config (the error names the failing rule's index) and compiles them.
  static Result<Relabeler> Compile(std::vector<RelabelConfig> configs);

  // Applies the rules to `labels` in place. Returns false when the set is dropped; the
  // builder's contents are then unspecified.
  bool Process(LabelsBuilder& labels) const;
  // Convenience: the relabeled set, or nullopt when dropped.
  std::optional<Labels> Process(const Labels& labels) const;

  bool empty() const { return size() == 0; }
  size_t size() const { return configs_ == nullptr ? 0 : configs_->size(); }
  // The configs this was compiled from, in order.
  const std::vector<RelabelConfig>& configs() const;

  struct Rule;  // compiled form of one config; defined in relabeler.cc

 private:
  std::shared_ptr<const std::vector<Rule>> rules_;
  std::shared_ptr<const std::vector<RelabelConfig>> configs_;
};

}  // namespace shardwise::relabel
