// Prometheus duration strings: a sequence of <number><unit> with units y, w, d, h, m, s, ms,
// largest first, e.g. "1h30m", "15s", "500ms", "0". Used by flags, configs and CRDs.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace shardwise {

Result<std::chrono::milliseconds> ParseDuration(std::string_view s);
// The shortest Prometheus form: 90000ms -> "1m30s"; 0 -> "0s".
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace shardwise
