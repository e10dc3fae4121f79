// Prometheus size syntax, as used in configuration files (body_size_limit): an integer with
// an optional unit B, KB, MB, GB, TB, PB or KiB..PiB, all powers of 1024 as in Prometheus;
// "0" = none.

#pragma once

#include <cstdint>
#include <string_view>

#include "common/duration.h"
#include "common/status.h"

namespace shardwise::scrape {

Result<uint64_t> ParseSize(std::string_view text);

}  // namespace shardwise::scrape
