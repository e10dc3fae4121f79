#include "scraper/storage/memory_sink.h"

namespace shardwise::storage {

class MemoryAppender : public Appender {
 public:
  explicit MemoryAppender(MemorySink* sink) : sink_(sink) {}

  Status Append(SeriesRef& ref, const Labels& labels, int64_t t_ms, double v) override {
    std::lock_guard lock(sink_->mu_);
    if (ref == 0 || ref > sink_->refs_.size()) {
      auto it = sink_->by_labels_.find(labels);
      if (it == sink_->by_labels_.end()) {
        sink_->refs_.push_back(labels);
        it = sink_->by_labels_.emplace(labels, sink_->refs_.size()).first;
      }
      ref = it->second;
    }
    pending_.push_back({ref, {t_ms, v}});
    return Status::OK();
  }

  Status Commit() override {
    std::lock_guard lock(sink_->mu_);
    for (const auto& [ref, s] : pending_) sink_->samples_[sink_->refs_[ref - 1]].push_back(s);
    pending_.clear();
    ++sink_->commits_;
    return Status::OK();
  }

  void Rollback() override { pending_.clear(); }

 private:
  MemorySink* sink_;
  std::vector<std::pair<SeriesRef, StoredSample>> pending_;
};

std::unique_ptr<Appender> MemorySink::NewAppender() {
  return std::make_unique<MemoryAppender>(this);
}

std::map<Labels, std::vector<StoredSample>> MemorySink::Series() const {
  std::lock_guard lock(mu_);
  return samples_;
}

std::vector<StoredSample> MemorySink::Samples(const Labels& series) const {
  std::lock_guard lock(mu_);
  auto it = samples_.find(series);
  return it == samples_.end() ? std::vector<StoredSample>{} : it->second;
}

size_t MemorySink::TotalSamples() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [_, v] : samples_) n += v.size();
  return n;
}

size_t MemorySink::commits() const {
  std::lock_guard lock(mu_);
  return commits_;
}

}  // namespace shardwise::storage
