// StringPool: interned label names and values, one copy per distinct string, reference
// counted so strings of deleted series go away. Series and postings hold the returned
// pointers, which stay valid until the last reference is released; two label strings are
// equal exactly when their pooled pointers are. Not thread-safe; the head guards it with
// its index lock.
//
// Memory: a pooled string is one allocation (8-byte header, then the bytes) plus an
// 8-byte slot in a flat table, ~42 B for a typical short label value where a
// std::unordered_map<std::string, ...> node costs ~72 B.
#pragma once

#include <cstdint>
#include <string_view>

#include "scraper/tsdb/index/flat_table.h"

namespace shardwise::tsdb {

// The 32-bit hash the pool and the postings index use for label strings.
uint32_t StringHash(std::string_view s);

class PooledString {
 public:
  std::string_view view() const { return {reinterpret_cast<const char*>(this + 1), size_}; }
  // Recomputed rather than stored: 4 more header bytes would push typical short values
  // into the next malloc size class, and only table growth and removal need it.
  uint32_t hash() const { return StringHash(view()); }

 private:
  friend class StringPool;
  explicit PooledString(uint32_t size) : size_(size) {}
  uint32_t refs_ = 0;
  uint32_t size_;
};

class StringPool {
 public:
  StringPool() = default;
  ~StringPool();
  StringPool(const StringPool&) = delete;
  StringPool& operator=(const StringPool&) = delete;

  // Returns the pooled copy of `s`, adding a reference.
  const PooledString* Intern(std::string_view s);
  // Drops a reference taken by Intern.
  void Release(const PooledString* s);
  // The pooled copy if present (no reference taken), else nullptr.
  const PooledString* Find(std::string_view s) const;

  size_t size() const { return table_.size(); }
  // Approximate heap bytes: strings (with allocator overhead) plus the table.
  size_t MemoryBytes() const { return bytes_ + table_.MemoryBytes(); }

 private:
  struct Traits {
    static bool Empty(PooledString* s) { return s == nullptr; }
    static uint64_t Hash(PooledString* s) { return s->hash(); }
  };
  FlatTable<PooledString*, Traits> table_;
  size_t bytes_ = 0;
};

}  // namespace shardwise::tsdb
