// The process's memory allocator (glibc malloc): its own figures, exposed as metrics.
//
// Why: a scraper holds a few hundred bytes per active series for hours, allocated and freed
// by many threads (scrape workers, the WAL writer, remote-write shards), so part of its RSS
// is not our data but the free space malloc keeps in its arenas. Process RSS alone cannot
// tell the two apart; these figures can (docs/benchmarks.md, issue 15, "The allocator's
// share"). That section also records why the scraper keeps glibc malloc with its default
// settings: measured, malloc's free space was ~8% of RSS, and neither jemalloc, fewer
// arenas, a lower trim threshold nor a periodic malloc_trim lowered RSS per series by more
// than 4% in the side-by-side runs.
//
// Reading the figures walks malloc's free lists under each arena's lock (glibc
// mallinfo2), so it costs O(free chunks): fine once per /metrics scrape, not in a hot path.
// Without glibc every figure is 0; under a sanitizer they describe glibc's heap, not the
// sanitizer's.
#pragma once

#include <cstdint>

namespace shardwise::metrics {
class Registry;
}

namespace shardwise::allocator {

struct HeapStats {
  uint64_t in_use_bytes = 0;  // allocated blocks, arenas and directly mmapped ones
  uint64_t free_bytes = 0;    // free space kept in the arenas (not returned to the system)
  uint64_t mapped_bytes = 0;  // arena memory taken from the system plus mmapped blocks
};

HeapStats ReadHeapStats();

// shardwise_process_heap_{in_use,free,mapped}_bytes on every Expose() of `registry`.
// Idempotent per registry.
void RegisterMetrics(metrics::Registry& registry);

}  // namespace shardwise::allocator
