// SeriesStore: the encoded labels of remote write's series, held once per process and
// shared by every endpoint's queue (RemoteWriter makes one and gives it to each queue).
//
// Each queue tails the WAL on its own and keeps its own ref -> block table, but the blocks
// come from here: a queue that defines series `ref` with encoded labels equal to the block
// already held for `ref` in its view gets that block (one more holder) instead of a copy.
// A view groups the queues whose encoded labels are equal for every series — same
// external labels, no write relabeling (a queue with write relabeling has a view of its
// own). A block is freed when its last holder releases it, i.e. once every queue has read
// the WAL's series-removed record for it (and its queued samples are sent) or has stopped,
// so the slowest endpoint decides how long a series' labels live, and no longer.
//
// Thread-safe: queues acquire and release under one mutex, once per series definition or
// removal, never per sample (samples carry the block pointer).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "scraper/remotewrite/series_table.h"

namespace shardwise::remotewrite {

// The bytes of a block from SeriesStore::Acquire (valid while it is held).
std::string_view LabelBlockBytes(const char* block);

// Asks the CPU to fetch a block's first cache lines (its length and up to ~250 bytes of
// labels). Senders call it a few series ahead: at a 10 s interval with many series every
// block is cold, and waiting for memory dominated encoding (BM_EncodeCompressColdLabels).
inline void PrefetchLabelBlock(const char* block) {
  __builtin_prefetch(block);
  __builtin_prefetch(block + 64);
  __builtin_prefetch(block + 128);
  __builtin_prefetch(block + 192);
}

class SeriesStore {
 public:
  SeriesStore() = default;
  ~SeriesStore();
  SeriesStore(const SeriesStore&) = delete;
  SeriesStore& operator=(const SeriesStore&) = delete;

  // The view for `key`: equal keys, equal view.
  uint32_t View(const std::string& key);
  // A block holding `encoded` for `ref` in `view`, with one more holder: the block already
  // held for it when its bytes are equal, else a new one (which later acquirers then share).
  const char* Acquire(uint32_t view, uint64_t ref, std::string_view encoded);
  // One holder fewer; the block is freed with the last.
  void Release(uint32_t view, uint64_t ref, const char* block);

  struct Usage {
    size_t blocks = 0;
    size_t bytes = 0;  // in blocks (headers included), not counting the index
  };
  Usage usage() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint32_t> views_;
  std::vector<std::unique_ptr<SeriesTable>> index_;  // by view: ref -> the block to share
  Usage usage_;
};

}  // namespace shardwise::remotewrite
