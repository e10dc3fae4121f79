// MetadataCache: the metric metadata one target exposes (# TYPE, # HELP, # UNIT), kept as
// Prometheus's scrape cache keeps it, for remote write's metadata_config.
//
// One entry per metric family name. A TYPE, HELP or UNIT line updates only its own field;
// a family with only HELP stays "unknown". An entry is kept until kKeepPasses scrapes have
// passed without any of its lines (a family that goes away for a scrape or two keeps its
// metadata), as Prometheus does. Lines are recorded while parsing, so a scrape that fails
// later still refreshes the families it got through.
//
// Not thread-safe: the owning scrape loop serialises calls (List() under its lock).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "scraper/storage/metadata.h"

namespace shardwise::scrape {

class MetadataCache {
 public:
  static constexpr uint64_t kKeepPasses = 10;

  void SetType(std::string_view family, storage::MetricType type);
  void SetHelp(std::string_view family, std::string_view help);
  void SetUnit(std::string_view family, std::string_view unit);
  // Ends one scrape: forgets families not seen for more than kKeepPasses scrapes.
  void EndPass();

  // Every family, ordered by name.
  std::vector<storage::MetricMetadata> List() const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    storage::MetricMetadata meta;
    uint64_t last_pass = 0;
  };
  Entry& Touch(std::string_view family);

  std::map<std::string, Entry, std::less<>> entries_;
  uint64_t pass_ = 0;
};

}  // namespace shardwise::scrape
