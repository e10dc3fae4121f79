// Prometheus duration and size syntax, as used in configuration files.
// Durations: units y, w, d, h, m, s, ms in that order, each at most once ("1h30m", "15s",
// "500ms"), or "0". A year is 365 days. Sizes (body_size_limit): an integer with an optional
// unit B, KB, MB, GB, TB, PB or KiB..PiB, all powers of 1024 as in Prometheus; "0" = none.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace shardwise::scrape {

Result<std::chrono::milliseconds> ParseDuration(std::string_view text);
// The shortest Prometheus form: 90000ms -> "1m30s", 0 -> "0s".
std::string FormatDuration(std::chrono::milliseconds d);

Result<uint64_t> ParseSize(std::string_view text);

}  // namespace shardwise::scrape
