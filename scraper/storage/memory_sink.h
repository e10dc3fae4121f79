// MemorySink: an Appendable that keeps every committed sample in memory, for tests.
// Thread-safe. Samples of a rolled-back appender are discarded.
#pragma once

#include <map>
#include <mutex>
#include <vector>

#include "scraper/storage/appender.h"

namespace shardwise::storage {

struct StoredSample {
  int64_t t_ms;
  double v;
};

class MemorySink : public Appendable {
 public:
  std::unique_ptr<Appender> NewAppender() override;

  // Snapshot of every series with its committed samples, in append order.
  std::map<Labels, std::vector<StoredSample>> Series() const;
  std::vector<StoredSample> Samples(const Labels& series) const;
  size_t TotalSamples() const;
  size_t commits() const;

 private:
  friend class MemoryAppender;
  mutable std::mutex mu_;
  std::vector<Labels> refs_;  // ref - 1 -> labels
  std::map<Labels, SeriesRef> by_labels_;
  std::map<Labels, std::vector<StoredSample>> samples_;
  size_t commits_ = 0;
};

}  // namespace shardwise::storage
