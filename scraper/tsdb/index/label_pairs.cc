#include "scraper/tsdb/index/label_pairs.h"

#include <xxhash.h>

#include <algorithm>

namespace shardwise::tsdb {

LabelPairs::~LabelPairs() {
  for (Pair& p : pairs_) {
    if (!p.name) continue;
    strings_.Release(p.name);
    strings_.Release(p.value);
  }
}

uint32_t LabelPairs::PairHash(std::string_view name, std::string_view value) {
  return static_cast<uint32_t>(XXH3_64bits_withSeed(value.data(), value.size(), StringHash(name)));
}

uint32_t LabelPairs::Find(std::string_view name, std::string_view value) const {
  const uint32_t hash = PairHash(name, value);
  const IdSlot* slot = by_pair_.Find(hash, [&](const IdSlot& s) {
    const Pair& p = pairs_[s.id1 - 1];
    return s.hash == hash && p.value->view() == value && p.name->view() == name;
  });
  return slot ? slot->id1 - 1 : kNone;
}

uint32_t LabelPairs::Add(std::string_view name, std::string_view value, uint64_t ref) {
  uint32_t id = Find(name, value);
  if (id == kNone) {
    if (free_.empty()) {
      id = static_cast<uint32_t>(pairs_.size());
      pairs_.emplace_back();
    } else {
      id = free_.back();
      free_.pop_back();
    }
    Pair& p = pairs_[id];
    p.name = strings_.Intern(name);
    p.value = strings_.Intern(value);
    p.hash = PairHash(name, value);
    by_pair_.Insert(IdSlot{id + 1, p.hash});
    by_name_[p.name->view()].Insert(IdSlot{id + 1, p.hash});
  }
  pairs_[id].list.Insert(ref);
  return id;
}

void LabelPairs::Remove(uint32_t id, const std::unordered_set<uint64_t>& refs) {
  Pair& p = pairs_[id];
  p.list.Remove(refs);
  if (!p.list.empty()) return;
  auto same = [&](const IdSlot& s) { return s.id1 == id + 1; };
  if (IdSlot* s = by_pair_.Find(p.hash, same)) by_pair_.Erase(s);
  auto n = by_name_.find(p.name->view());
  if (n != by_name_.end()) {
    if (IdSlot* s = n->second.Find(p.hash, same)) n->second.Erase(s);
    if (n->second.empty()) by_name_.erase(n);  // before the name's string may go
  }
  strings_.Release(p.name);
  strings_.Release(p.value);
  p = Pair();
  free_.push_back(id);
}

Postings LabelPairs::Get(std::string_view name, std::string_view value) const {
  const uint32_t id = Find(name, value);
  return id == kNone ? Postings() : pairs_[id].list.Decode();
}

size_t LabelPairs::MemoryBytes() const {
  size_t bytes = strings_.MemoryBytes() + all_.HeapBytes();
  bytes += pairs_.capacity() * sizeof(Pair) + free_.capacity() * sizeof(uint32_t);
  bytes += by_pair_.MemoryBytes();
  for (const auto& [name, ids] : by_name_) bytes += 64 + ids.MemoryBytes();
  for (const Pair& p : pairs_) bytes += p.list.HeapBytes();
  return bytes;
}

}  // namespace shardwise::tsdb
