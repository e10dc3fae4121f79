// The scraper's web pages, compiled into the binary (scraper/ui/assets/, CMake
// shardwise_embed_assets), as Prometheus has them:
//   /targets      (also /) every target grouped by job: health, last scrape, duration,
//                 error, series; filter by text or unhealthy only. Renders /api/v1/targets.
//   /tsdb-status  the head's cardinality: head series and chunks, top 10 metric names,
//                 label names and label pairs by series. Renders /api/v1/status/tsdb
//                 (tsdb/api/tsdb_status.h), which this also registers.
// Same access as the other read endpoints of the port (docs/security.md).
#pragma once

#include <vector>

#include "common/http/assets.h"
#include "common/http/server.h"
#include "scraper/tsdb/head.h"

namespace shardwise::scraper_ui {

const std::vector<http::Asset>& EmbeddedAssets();

// `head` must outlive the server.
void RegisterPages(http::Server& server, const tsdb::Head& head);

}  // namespace shardwise::scraper_ui
