// A remote-write endpoint's durable cursor: the WAL position up to which the receiver has
// acknowledged everything. Stored as one small text file beside the WAL, replaced
// atomically (write temp, fsync, rename, fsync dir) so a crash leaves the old or the new
// cursor, never a torn one. A checksum line guards against anything else.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "scraper/remotewrite/wal_source.h"

namespace shardwise::remotewrite {

// nullopt when the file does not exist; Corruption when it exists but is unreadable.
Result<std::optional<WalPosition>> LoadCursor(const std::string& path);
Status StoreCursor(const std::string& path, WalPosition pos);

// "<dir>/<name>.cursor" with `name` made safe for a file name (and still unique).
std::string CursorPath(const std::string& dir, const std::string& endpoint_name);

}  // namespace shardwise::remotewrite
