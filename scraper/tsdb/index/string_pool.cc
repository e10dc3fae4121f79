#include "scraper/tsdb/index/string_pool.h"

#include <xxhash.h>

#include <cstring>
#include <new>

namespace shardwise::tsdb {
namespace {

size_t AllocationBytes(size_t size) {
  // glibc malloc: 8 bytes of header, 16-byte granularity, 32 bytes at least.
  size_t n = (size + 8 + 15) & ~size_t{15};
  return n < 32 ? 32 : n;
}

}  // namespace

uint32_t StringHash(std::string_view s) {
  return static_cast<uint32_t>(XXH3_64bits(s.data(), s.size()));
}

StringPool::~StringPool() {
  table_.ForEachMutable([](PooledString*& s) {
    s->~PooledString();
    ::operator delete(s);
  });
}

const PooledString* StringPool::Intern(std::string_view s) {
  const uint32_t hash = StringHash(s);
  PooledString** found = table_.Find(hash, [&](PooledString* p) { return p->view() == s; });
  PooledString* p;
  if (found) {
    p = *found;
  } else {
    void* mem = ::operator new(sizeof(PooledString) + s.size());
    p = new (mem) PooledString(static_cast<uint32_t>(s.size()));
    if (!s.empty()) std::memcpy(p + 1, s.data(), s.size());
    table_.Insert(p);
    bytes_ += AllocationBytes(sizeof(PooledString) + s.size());
  }
  ++p->refs_;
  return p;
}

void StringPool::Release(const PooledString* s) {
  PooledString** found =
      table_.Find(StringHash(s->view()), [&](PooledString* p) { return p == s; });
  if (!found) return;
  PooledString* p = *found;
  if (--p->refs_ > 0) return;
  table_.Erase(found);
  bytes_ -= AllocationBytes(sizeof(PooledString) + p->size_);
  p->~PooledString();
  ::operator delete(p);
}

const PooledString* StringPool::Find(std::string_view s) const {
  const uint32_t hash = StringHash(s);
  PooledString* const* found = table_.Find(hash, [&](PooledString* p) { return p->view() == s; });
  return found ? *found : nullptr;
}

}  // namespace shardwise::tsdb
