#include "common/allocator.h"

#include <mutex>
#include <set>

#include "common/metrics/registry.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace shardwise::allocator {

HeapStats ReadHeapStats() {
  HeapStats s;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  // mallinfo2 sums every arena; arena = bytes of arena memory from the system, hblkhd =
  // bytes in mmapped blocks, uordblks/fordblks = in-use/free bytes in the arenas.
  struct mallinfo2 mi = ::mallinfo2();
  s.in_use_bytes = mi.uordblks + mi.hblkhd;
  s.free_bytes = mi.fordblks;
  s.mapped_bytes = mi.arena + mi.hblkhd;
#endif
  return s;
}

void RegisterMetrics(metrics::Registry& registry) {
  static std::mutex mu;
  static std::set<const metrics::Registry*> registered;
  {
    std::lock_guard lock(mu);
    if (!registered.insert(&registry).second) return;
  }
  registry.AddCollector([](metrics::Writer& w) {
    HeapStats s = ReadHeapStats();
    w.Family("shardwise_process_heap_in_use_bytes",
             "Bytes in blocks the process has allocated from malloc and not freed.", "gauge");
    w.Sample("shardwise_process_heap_in_use_bytes", {}, static_cast<double>(s.in_use_bytes));
    w.Family("shardwise_process_heap_free_bytes",
             "Free bytes malloc keeps in its arenas for later allocations (part of RSS that is "
             "not the process's data).",
             "gauge");
    w.Sample("shardwise_process_heap_free_bytes", {}, static_cast<double>(s.free_bytes));
    w.Family("shardwise_process_heap_mapped_bytes",
             "Bytes malloc has taken from the system: its arenas plus directly mmapped blocks.",
             "gauge");
    w.Sample("shardwise_process_heap_mapped_bytes", {}, static_cast<double>(s.mapped_bytes));
  });
}

}  // namespace shardwise::allocator
