// Checkpoints: when retention deletes WAL segments 0..N, the series records of every
// series that may still be referenced are written to wal/checkpoint.N (paged records,
// the same format as a segment) before the segments go. Replay and WAL consumers read
// the newest checkpoint first and then the segments after N, so every sample's ref can
// be resolved to labels even though the segment that introduced the ref is gone.
//
// A checkpoint is written to checkpoint.N.tmp, fsynced and renamed into place, so a
// reader sees it whole or not at all; older checkpoints are removed afterwards.
//
// Space for it is reserved beforehand: wal/checkpoint.reserve is a preallocated file that
// becomes the temporary file (renamed, overwritten in place, cut to size), so a
// checkpoint can be written on a full disk, which is exactly when deleting segments
// matters most. The DB grows the reserve again after every checkpoint.
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

// The reserve's path, and making it at least `bytes` long (preallocated). On failure
// (no space) the reserve keeps its previous size.
std::string CheckpointReservePath(const std::string& wal_dir);
Status EnsureCheckpointReserve(const std::string& wal_dir, uint64_t bytes);

// Reads every series record of a checkpoint.
Status ReadCheckpoint(const std::string& path, std::vector<SeriesRecord>* out);

}  // namespace shardwise::tsdb
