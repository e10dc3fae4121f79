// Metrics of the target sources (shardwise_sd_*), registered once on the default registry.
#pragma once

#include "common/metrics/registry.h"

namespace shardwise::sd {

struct SdMetrics {
  metrics::CounterFamily& refreshes;         // {mechanism}
  metrics::CounterFamily& refresh_failures;  // {mechanism}
  static SdMetrics& Get();
};

}  // namespace shardwise::sd
