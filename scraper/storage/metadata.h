// MetricMetadata: what a target says about one metric family in its # TYPE, # HELP and
// # UNIT lines. Scraping keeps it per target (scraper/scrape/metadata_cache.h); remote write
// sends it under `metadata_config` (scraper/remotewrite/metadata_sender.h).
//
// MetricType's values are those of remote write's prometheus.MetricMetadata.MetricType, so
// the wire value is the enum's value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace shardwise::storage {

enum class MetricType : uint8_t {
  kUnknown = 0,
  kCounter = 1,
  kGauge = 2,
  kHistogram = 3,
  kGaugeHistogram = 4,
  kSummary = 5,
  kInfo = 6,
  kStateset = 7,
};

// Prometheus's lower-case name of the type ("gaugehistogram", "unknown", ...).
std::string_view MetricTypeName(MetricType type);

struct MetricMetadata {
  std::string family;  // the metric family name as exposed in # TYPE / # HELP / # UNIT
  MetricType type = MetricType::kUnknown;
  std::string help;
  std::string unit;

  bool operator==(const MetricMetadata&) const = default;
  auto operator<=>(const MetricMetadata&) const = default;
};

}  // namespace shardwise::storage
