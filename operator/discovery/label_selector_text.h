// The text form of a label selector, as the `labelSelector` query parameter carries it:
// comma-separated requirements `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`
// (exists) and `!k` (does not exist). "" selects everything. Parsed into the same
// LabelSelector the monitors use, so one Matches() serves both.
#pragma once

#include <string_view>

#include "common/status.h"
#include "operator/discovery/monitor.h"

namespace shardwise::opdiscovery {

Result<LabelSelector> ParseLabelSelectorText(std::string_view text);

}  // namespace shardwise::opdiscovery
