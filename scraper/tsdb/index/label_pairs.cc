#include "scraper/tsdb/index/label_pairs.h"

namespace shardwise::tsdb {

LabelPairs::LabelPairs(std::shared_ptr<storage::LabelPairTable> table)
    : table_(table ? std::move(table) : storage::LabelPairTable::Process()) {}

LabelPairs::~LabelPairs() {
  std::vector<uint32_t> held;
  for (uint32_t id = 0; id < lists_.size(); ++id) {
    if (!lists_[id].empty()) held.push_back(id);
  }
  table_->Release(held);
}

uint32_t LabelPairs::Find(std::string_view name, std::string_view value) const {
  // The table may know the pair from remote write alone: then the head has no series with it.
  const uint32_t id = table_->Find(name, value);
  return id < lists_.size() && !lists_[id].empty() ? id : kNone;
}

uint32_t LabelPairs::Add(std::string_view name, std::string_view value, uint64_t ref) {
  uint32_t id = Find(name, value);
  if (id == kNone) {
    id = table_->Acquire(name, value);
    if (id >= lists_.size()) lists_.resize(id + 1);
    ++held_;
    const uint32_t hash = storage::LabelPairTable::PairHash(name, value);
    auto n = by_name_.find(name);
    if (n == by_name_.end()) n = by_name_.emplace(std::string(name), IdTable()).first;
    n->second.Insert(IdSlot{id + 1, hash});
  }
  lists_[id].Insert(ref);
  return id;
}

void LabelPairs::Remove(uint32_t id, const std::unordered_set<uint64_t>& refs) {
  PostingsList& list = lists_[id];
  list.Remove(refs);
  if (!list.empty()) return;
  auto n = by_name_.find(table_->name(id));
  if (n != by_name_.end()) {
    const uint32_t hash = table_->hash(id);
    if (IdSlot* s = n->second.Find(hash, [&](const IdSlot& s) { return s.id1 == id + 1; })) {
      n->second.Erase(s);
    }
    if (n->second.empty()) by_name_.erase(n);
  }
  --held_;
  table_->Release(id);  // after the last read of its strings
  // Trailing ids freed: the vector shrinks with the head (a head that shrank for good).
  while (!lists_.empty() && lists_.back().empty()) lists_.pop_back();
}

Postings LabelPairs::Get(std::string_view name, std::string_view value) const {
  const uint32_t id = Find(name, value);
  return id == kNone ? Postings() : lists_[id].Decode();
}

size_t LabelPairs::MemoryBytes() const {
  size_t bytes = all_.HeapBytes() + lists_.capacity() * sizeof(PostingsList);
  for (const auto& [name, ids] : by_name_) bytes += 64 + name.capacity() + ids.MemoryBytes();
  for (uint32_t id = 0; id < lists_.size(); ++id) {
    if (lists_[id].empty()) continue;
    bytes += lists_[id].HeapBytes() + table_->HeldBytes(id);
  }
  return bytes;
}

}  // namespace shardwise::tsdb
