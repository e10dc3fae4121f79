// Checkpoints: when retention deletes WAL segments 0..N, the series records of every
// series that may still be referenced are written to wal/checkpoint.N (framed records,
// the same format as a segment) before the segments go. Replay and WAL consumers read
// the newest checkpoint first and then the segments after N, so every sample's ref can
// be resolved to labels even though the segment that introduced the ref is gone.
//
// A checkpoint is written to checkpoint.N.tmp, fsynced and renamed into place, so a
// reader sees it whole or not at all; older checkpoints are removed afterwards.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "scraper/tsdb/record.h"

namespace shardwise::tsdb {

std::string CheckpointName(uint32_t last_segment);
// The newest complete checkpoint in `wal_dir`: its path and the last segment it covers.
struct CheckpointRef {
  std::string path;
  uint32_t last_segment = 0;
};
Result<std::optional<CheckpointRef>> LatestCheckpoint(const std::string& wal_dir);

// Writes checkpoint.<last_segment> holding `series` and removes older checkpoints and
// leftover temporary files.
Status WriteCheckpoint(const std::string& wal_dir, uint32_t last_segment,
                       const std::vector<SeriesRecord>& series);

// Reads every series record of a checkpoint.
Status ReadCheckpoint(const std::string& path, std::vector<SeriesRecord>* out);

}  // namespace shardwise::tsdb
