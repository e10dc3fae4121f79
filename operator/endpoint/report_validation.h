// ValidateReport: what the operator accepts in a scraper's LoadReport before it may weigh
// targets, complete handoffs or count as a heartbeat. Reports come over the network, so
// every number is checked: finite, not negative, within bounds no real scraper reaches
// (a report claiming a billion series must not move targets), and the report must name the
// pod it was posted for.
#pragma once

#include <cstddef>

#include "common/plan/plan.h"
#include "common/status.h"
#include "operator/endpoint/naming.h"

namespace shardwise::endpoint {

inline constexpr size_t kMaxReportBytes = 16 << 20;
inline constexpr size_t kMaxReportTargets = 200000;
// Above any sample_limit in practice; Prometheus itself fails scrapes far below this.
inline constexpr double kMaxSeriesPerTarget = 5e6;
inline constexpr double kMaxSeriesPerReport = 1e9;
inline constexpr double kMaxSamplesPerSecond = 1e9;
inline constexpr size_t kMaxErrorBytes = 4096;

Status ValidateReport(const ShardKey& key, std::string_view pod, const plan::LoadReport& report);

}  // namespace shardwise::endpoint
