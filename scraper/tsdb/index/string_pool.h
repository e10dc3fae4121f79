// StringPool: interned label names and values, one copy per distinct string, reference
// counted so strings of deleted series go away. Series and postings hold the returned
// pointers, which stay valid until the last reference is released. Not thread-safe; the
// head guards it with its index lock.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace shardwise::tsdb {

class StringPool {
 public:
  // Returns the pooled copy of `s`, adding a reference.
  const std::string* Intern(std::string_view s);
  // Drops a reference taken by Intern.
  void Release(const std::string* s);
  // The pooled copy if present (no reference taken), else nullptr.
  const std::string* Find(std::string_view s) const;

  size_t size() const { return map_.size(); }
  // Approximate heap bytes: strings plus hash-table nodes.
  size_t MemoryBytes() const { return bytes_ + map_.size() * 64 + map_.bucket_count() * 8; }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };
  std::unordered_map<std::string, uint32_t, Hash, Eq> map_;
  size_t bytes_ = 0;
};

}  // namespace shardwise::tsdb
