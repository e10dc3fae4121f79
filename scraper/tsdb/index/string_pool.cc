#include "scraper/tsdb/index/string_pool.h"

namespace shardwise::tsdb {

const std::string* StringPool::Intern(std::string_view s) {
  auto it = map_.find(s);
  if (it == map_.end()) {
    it = map_.emplace(std::string(s), 0).first;
    bytes_ += it->first.capacity() > 15 ? it->first.capacity() : 0;  // beyond SSO
  }
  ++it->second;
  return &it->first;
}

void StringPool::Release(const std::string* s) {
  auto it = map_.find(std::string_view(*s));
  if (it == map_.end()) return;
  if (--it->second == 0) {
    bytes_ -= it->first.capacity() > 15 ? it->first.capacity() : 0;
    map_.erase(it);
  }
}

const std::string* StringPool::Find(std::string_view s) const {
  auto it = map_.find(s);
  return it == map_.end() ? nullptr : &it->first;
}

}  // namespace shardwise::tsdb
