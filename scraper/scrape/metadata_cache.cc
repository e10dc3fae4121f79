#include "scraper/scrape/metadata_cache.h"

namespace shardwise::scrape {

MetadataCache::Entry& MetadataCache::Touch(std::string_view family) {
  auto it = entries_.find(family);
  if (it == entries_.end()) {
    it = entries_.emplace(std::string(family), Entry{}).first;
    it->second.meta.family = it->first;
  }
  it->second.last_pass = pass_;
  return it->second;
}

void MetadataCache::SetType(std::string_view family, storage::MetricType type) {
  Touch(family).meta.type = type;
}

void MetadataCache::SetHelp(std::string_view family, std::string_view help) {
  Entry& e = Touch(family);
  if (e.meta.help != help) e.meta.help.assign(help);
}

void MetadataCache::SetUnit(std::string_view family, std::string_view unit) {
  Entry& e = Touch(family);
  if (e.meta.unit != unit) e.meta.unit.assign(unit);
}

void MetadataCache::EndPass() {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (pass_ - it->second.last_pass > kKeepPasses) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  ++pass_;
}

std::vector<storage::MetricMetadata> MetadataCache::List() const {
  std::vector<storage::MetricMetadata> out;
  out.reserve(entries_.size());
  for (const auto& [family, e] : entries_) out.push_back(e.meta);
  return out;
}

}  // namespace shardwise::scrape
