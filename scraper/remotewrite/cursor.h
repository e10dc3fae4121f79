// A remote-write endpoint's durable cursor: the WAL position up to which the receiver has
// acknowledged everything. Stored in a small preallocated file beside the WAL with two
// checksummed, sequence-numbered slots; each store overwrites the older slot in place and
// fdatasyncs. So storing never needs free space (it works on a full disk, when the cursor
// matters most: a restart must not resend what was acknowledged), and a torn write
// leaves the other slot. The file is created once (temp, fsync, rename, fsync dir);
// version 1 files (one line each of magic, position, checksum) are still read.
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
