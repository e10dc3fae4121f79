// SeriesStore: the labels of remote write's series, held once per process and shared by
// every endpoint's queue (RemoteWriter makes one and gives it to each queue).
//
// A series' labels are a block of label pair ids in the process's LabelPairTable — the one
// the TSDB head interns its labels in — so remote write keeps no strings of its own: 4 bytes
// per label plus an 8-byte header, where a copy of the encoded labels took ~40 bytes per
// label. Labels that are not the head's (external labels, write relabeling results) are
// interned in the same table. Each block holds a reference on its pairs, so a series the
// head already dropped still encodes while a lagging queue sends its samples (an outage).
//
// Each queue tails the WAL on its own and keeps its own ref -> block table, but the blocks
// come from here: a queue that defines series `ref` with labels equal to the block already
// held for `ref` in its view gets that block (one more holder) instead of a copy. A view
// groups the queues whose labels are equal for every series — same external labels, no
// write relabeling (a queue with write relabeling has a view of its own). A block and its
// pair references go with its last holder, i.e. once every queue has read the WAL's
// series-removed record for it (and its queued samples are sent) or has stopped, so the
// slowest endpoint decides how long a series' labels live, and no longer.
//
// Thread-safe: queues acquire and release under one mutex, once per series definition or
// removal, never per sample (samples carry the block pointer; encoding reads the pairs
// without a lock, see LabelPairTable).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "common/labels.h"
#include "scraper/remotewrite/series_table.h"
#include "scraper/storage/label_pair_table.h"

namespace shardwise::remotewrite {

// The pair ids of a block from SeriesStore::Acquire, in label order (valid while it is held).
std::span<const uint32_t> LabelBlockIds(const char* block);
// The bytes its labels take in a TimeSeries: the sum of the pairs' encoded sizes.
uint32_t LabelBlockEncodedSize(const char* block);

// Asks the CPU to fetch a block (its header and up to 28 ids). Senders call it a few series
// ahead, then PrefetchLabelPairs: at a 10 s interval with many series every block and most
// pairs are cold, and waiting for memory dominated encoding (BM_EncodeCompressColdLabels).
inline void PrefetchLabelBlock(const char* block) {
  __builtin_prefetch(block);
  __builtin_prefetch(block + 64);
}

class SeriesStore {
 public:
  // Pairs interned in `pairs`; null: the process's table (the head's).
  explicit SeriesStore(std::shared_ptr<storage::LabelPairTable> pairs = nullptr);
  ~SeriesStore();
  SeriesStore(const SeriesStore&) = delete;
  SeriesStore& operator=(const SeriesStore&) = delete;

  // The view for `key`: equal keys, equal view.
  uint32_t View(const std::string& key);
  static constexpr size_t kMaxLabels = UINT16_MAX;
  static constexpr uint16_t kMaxHolders = UINT16_MAX;

  // A block holding `labels` (non-empty, sorted) for `ref` in `view`, with one more holder:
  // the block already held for it when its labels are equal, else a new one (which later
  // acquirers then share). Null, for a series of more than kMaxLabels labels, which is
  // then not sent (no exposition format or receiver takes that many).
  const char* Acquire(uint32_t view, uint64_t ref, const Labels& labels);
  // One holder fewer; the block is freed with the last.
  void Release(uint32_t view, uint64_t ref, const char* block);
  // Whether a held block's labels are `labels`.
  bool Equal(const char* block, const Labels& labels) const;

  // Where the pairs live; reading them needs no lock while a block holding them is held.
  const storage::LabelPairTable& pairs() const { return *pairs_; }
  // Fetches a held block's pairs into the cache (once the block itself has arrived).
  void PrefetchPairs(const char* block) const;

  struct Usage {
    size_t blocks = 0;
    size_t bytes = 0;  // in blocks (headers included), not counting the index or the pairs
  };
  Usage usage() const;

 private:
  const std::shared_ptr<storage::LabelPairTable> pairs_;
  mutable std::mutex mu_;
  std::map<std::string, uint32_t> views_;
  std::vector<std::unique_ptr<SeriesTable>> index_;  // by view: ref -> the block to share
  std::vector<uint32_t> ids_;                        // Acquire's scratch
  Usage usage_;
};

}  // namespace shardwise::remotewrite
