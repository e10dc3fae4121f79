#include "scraper/tsdb/index/postings.h"

#include <algorithm>
#include <iterator>

namespace shardwise::tsdb {
namespace {

void InsertSorted(Postings& list, uint64_t ref) {
  // Refs are handed out in increasing order, so this is nearly always a push_back.
  if (list.empty() || list.back() < ref) {
    list.push_back(ref);
    return;
  }
  auto it = std::lower_bound(list.begin(), list.end(), ref);
  if (it == list.end() || *it != ref) list.insert(it, ref);
}

void RemoveAll(Postings& list, const std::unordered_set<uint64_t>& refs) {
  list.erase(std::remove_if(list.begin(), list.end(), [&](uint64_t r) { return refs.count(r); }),
             list.end());
}

}  // namespace

void MemPostings::Add(uint64_t ref, std::string_view name, std::string_view value) {
  InsertSorted(index_[name][value], ref);
}

void MemPostings::AddToAll(uint64_t ref) { InsertSorted(all_, ref); }

void MemPostings::Remove(std::string_view name, std::string_view value,
                         const std::unordered_set<uint64_t>& refs) {
  auto n = index_.find(name);
  if (n == index_.end()) return;
  auto v = n->second.find(value);
  if (v == n->second.end()) return;
  RemoveAll(v->second, refs);
  if (v->second.empty()) {
    n->second.erase(v);
    if (n->second.empty()) index_.erase(n);
  } else if (v->second.capacity() > 2 * v->second.size() + 8) {
    v->second.shrink_to_fit();
  }
}

void MemPostings::RemoveFromAll(const std::unordered_set<uint64_t>& refs) { RemoveAll(all_, refs); }

const Postings* MemPostings::Get(std::string_view name, std::string_view value) const {
  auto n = index_.find(name);
  if (n == index_.end()) return nullptr;
  auto v = n->second.find(value);
  return v == n->second.end() ? nullptr : &v->second;
}

size_t MemPostings::MemoryBytes() const {
  size_t bytes = all_.capacity() * sizeof(uint64_t);
  for (const auto& [name, values] : index_) {
    bytes += 64 + values.bucket_count() * 8;
    for (const auto& [value, list] : values) bytes += 64 + list.capacity() * sizeof(uint64_t);
  }
  return bytes;
}

Postings Intersect(const Postings& a, const Postings& b) {
  Postings out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

Postings Union(const std::vector<const Postings*>& lists) {
  if (lists.empty()) return {};
  if (lists.size() == 1) return *lists[0];
  Postings out;
  size_t total = 0;
  for (const auto* l : lists) total += l->size();
  out.reserve(total);
  for (const auto* l : lists) out.insert(out.end(), l->begin(), l->end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Postings Subtract(const Postings& a, const Postings& b) {
  Postings out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace shardwise::tsdb
